package component

import (
	"sync"

	"xmppgw/transports"
)

// What a transport users sign in to (transports.Login) last told of its
// contacts' presence (AccountSink.Presence), kept in memory to answer the
// server's probes: a contact last seen away is not shown online when the
// user reconnects.

// maxPresences bounds the presences kept, of all accounts, and
// maxAccountPresences those of one account: past its share an account
// forgets one of its own, and past the whole the account holding most
// does, so one account's churn cannot push out everyone else's. A
// forgotten contact is answered as not known yet, until the network
// reports it again.
const (
	maxPresences        = 65536
	maxAccountPresences = maxPresences / 8
)

// unknownStatus is the status of a contact the network has not reported
// since the gateway started: shown not online ("xa", as a contact that is
// offline), since nothing says it is, rather than online.
const unknownStatus = "Status not known yet"

// shown is a contact's presence as it is shown: its <show/> and <status/>
// ("" and "" for online).
type shown struct{ show, status string }

// contactPresences are the presences last reported, by account and
// contact.
type contactPresences struct {
	mu    sync.Mutex
	m     map[transports.Addr]map[transports.Addr]shown
	total int
}

// set records what account's contact remote was last reported as.
func (c *contactPresences) set(account, remote transports.Addr, s shown) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[transports.Addr]map[transports.Addr]shown{}
	}
	of := c.m[account]
	if _, ok := of[remote]; !ok {
		switch {
		case len(of) >= maxAccountPresences:
			c.forgetOne(account)
		case c.total >= maxPresences:
			c.forgetOne(c.largest())
		}
		if of = c.m[account]; of == nil {
			of = map[transports.Addr]shown{}
			c.m[account] = of
		}
		c.total++
	}
	of[remote] = s
}

// forgetOne forgets an arbitrary presence of account's.
func (c *contactPresences) forgetOne(account transports.Addr) {
	for remote := range c.m[account] {
		delete(c.m[account], remote)
		c.total--
		break
	}
	if len(c.m[account]) == 0 {
		delete(c.m, account)
	}
}

// largest is the account holding most presences.
func (c *contactPresences) largest() transports.Addr {
	var top transports.Addr
	n := -1
	for a, of := range c.m {
		if len(of) > n {
			top, n = a, len(of)
		}
	}
	return top
}

// get returns what account's contact remote was last reported as, or the
// presence of a contact not known yet.
func (c *contactPresences) get(account, remote transports.Addr) shown {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[account][remote]; ok {
		return s
	}
	return shown{show: "xa", status: unknownStatus}
}
