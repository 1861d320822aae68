package component

import (
	"sync"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// jidCache keeps JIDs made from strings: those parsed from stanzas' from
// and to attributes, and contacts' JIDs made from their addresses. A
// gateway sees the same few senders and contacts again and again, and
// making a JID is costly (PRECIS, IDNA, XEP-0106 escaping); a JID is
// immutable, so one may be shared.
type jidCache struct {
	mu sync.Mutex
	m  map[string]cachedJID // by the string it was made from; at most maxJIDs
}

// cachedJID is a JID with its strings, each made once.
type cachedJID struct {
	j          jid.JID
	full, bare string
}

// maxJIDs bounds the JIDs kept; past it they start over. Only JIDs made
// from at most maxCachedLen bytes are kept (a JID may have 3,071), so that
// a user who writes to many long addresses cannot make the cache large.
const (
	maxJIDs      = 4096
	maxCachedLen = 256
)

// get returns the JID mk makes from s, made once while it is kept. Only
// JIDs made without an error are kept.
func (c *jidCache) get(s string, mk func(string) (jid.JID, error)) (jid.JID, error) {
	if len(s) > maxCachedLen {
		return mk(s)
	}
	c.mu.Lock()
	e, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return e.j, nil
	}
	j, err := mk(s)
	if err != nil {
		return j, err
	}
	e = cachedJID{j: j, full: j.String(), bare: j.Bare().String()}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxJIDs {
		c.m = map[string]cachedJID{}
	}
	c.m[s] = e
	c.mu.Unlock()
	return j, nil
}

// parse is jid.Parse, answered from the cache when s was parsed before.
func (c *jidCache) parse(s string) (jid.JID, error) { return c.get(s, jid.Parse) }

// strings returns j's full and bare JIDs as strings; raw is the string j
// was made from, whose cached strings are used if they are still kept.
func (c *jidCache) strings(raw string, j jid.JID) (full, bare string) {
	c.mu.Lock()
	e, ok := c.m[raw]
	c.mu.Unlock()
	if ok && e.j.Equal(j) {
		return e.full, e.bare
	}
	return j.String(), j.Bare().String()
}

// contactJID is mapping.ContactJID on the gateway's domain, each contact's
// made once while it is kept.
func (g *Gateway) contactJID(addr transports.Addr) (jid.JID, error) {
	return g.contactJIDs.get(string(addr), func(a string) (jid.JID, error) {
		return mapping.ContactJID(transports.Addr(a), g.domain.Domainpart())
	})
}
