package component

import (
	"sync"

	"xmppgw/transports"
)

// What a transport users sign in to (transports.Login) last told of its
// contacts' presence (AccountSink.Presence), kept in memory to answer the
// server's probes: a contact last seen away is not shown online when the
// user reconnects.

// maxPresences bounds the presences kept, of all accounts; past it an
// arbitrary one is forgotten (its contact is answered as not known yet,
// until the network reports it again).
const maxPresences = 65536

// unknownStatus is the status of a contact the network has not reported
// since the gateway started: shown not online ("xa", as a contact that is
// offline), since nothing says it is, rather than online.
const unknownStatus = "Status not known yet"

// shown is a contact's presence as it is shown: its <show/> and <status/>
// ("" and "" for online).
type shown struct{ show, status string }

// presenceKey is a contact (remote) of an account.
type presenceKey struct{ account, remote transports.Addr }

// contactPresences are the presences last reported, by account and
// contact.
type contactPresences struct {
	mu sync.Mutex
	m  map[presenceKey]shown
}

// set records what account's contact remote was last reported as.
func (c *contactPresences) set(account, remote transports.Addr, s shown) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := presenceKey{account, remote}
	if _, ok := c.m[k]; !ok && len(c.m) >= maxPresences {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	if c.m == nil {
		c.m = map[presenceKey]shown{}
	}
	c.m[k] = s
}

// get returns what account's contact remote was last reported as, or the
// presence of a contact not known yet.
func (c *contactPresences) get(account, remote transports.Addr) shown {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[presenceKey{account, remote}]; ok {
		return s
	}
	return shown{show: "xa", status: unknownStatus}
}
