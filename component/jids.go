package component

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// jidCache keeps the JIDs parsed from stanzas' from and to attributes. A
// gateway sees the same few senders and contacts again and again, and a
// parse is costly (PRECIS, IDNA); a JID is immutable, so one may be shared.
type jidCache struct {
	mu sync.Mutex
	m  map[string]cachedJID // by the attribute as written; at most maxJIDs
}

// cachedJID is a parsed JID with its strings, each made once.
type cachedJID struct {
	j          jid.JID
	full, bare string
}

// maxJIDs bounds the JIDs kept; past it they start over. Only JIDs of at
// most maxCachedLen bytes are kept (a JID may have 3,071), so that a user
// who writes to many long addresses cannot make the cache large.
const (
	maxJIDs      = 4096
	maxCachedLen = 256
)

// parse is jid.Parse, answered from the cache when s was parsed before.
// Only JIDs that parse are kept.
func (c *jidCache) parse(s string) (jid.JID, error) {
	if len(s) > maxCachedLen {
		return jid.Parse(s)
	}
	c.mu.Lock()
	e, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return e.j, nil
	}
	j, err := jid.Parse(s)
	if err != nil {
		return j, err
	}
	e = cachedJID{j: j, full: j.String(), bare: j.Bare().String()}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxJIDs {
		c.m = make(map[string]cachedJID)
	}
	c.m[s] = e
	c.mu.Unlock()
	return j, nil
}

// strings returns j's full and bare JIDs as strings; raw is the attribute
// j was parsed from, whose cached strings are used if they are still kept.
func (c *jidCache) strings(raw string, j jid.JID) (full, bare string) {
	c.mu.Lock()
	e, ok := c.m[raw]
	c.mu.Unlock()
	if ok && e.j.Equal(j) {
		return e.full, e.bare
	}
	return j.String(), j.Bare().String()
}
