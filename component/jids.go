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
	m  map[string]jid.JID // by the attribute as written; at most maxJIDs
}

// maxJIDs bounds the JIDs kept; past it they start over.
const maxJIDs = 4096

// parse is jid.Parse, answered from the cache when s was parsed before.
// Only JIDs that parse are kept.
func (c *jidCache) parse(s string) (jid.JID, error) {
	c.mu.Lock()
	j, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return j, nil
	}
	j, err := jid.Parse(s)
	if err != nil {
		return j, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxJIDs {
		c.m = make(map[string]jid.JID)
	}
	c.m[s] = j
	c.mu.Unlock()
	return j, nil
}
