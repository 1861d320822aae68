package configs

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// allowIndex is access.allow parsed once, with the answers Allowed gave so
// far: it is asked about every stanza, and a JID parse is costly (PRECIS,
// IDNA), more so for each entry of a long list.
type allowIndex struct {
	domains map[string]bool // the domain entries
	bares   map[string]bool // the bare JID entries
	users   map[string]bool // the domains of every entry

	mu      sync.Mutex
	answers map[string]bool // by the JID asked about, at most maxAnswers
}

// maxAnswers bounds the answers kept; past it they start over. Answers for
// JIDs longer than maxAnsweredLen bytes are not kept.
const (
	maxAnswers     = 4096
	maxAnsweredLen = 256
)

// newAllowIndex indexes allow, whose entries are canonical; one that does
// not parse matches nothing, as in Allowed.
func newAllowIndex(allow []string) *allowIndex {
	ix := &allowIndex{domains: map[string]bool{}, bares: map[string]bool{}, users: map[string]bool{}, answers: map[string]bool{}}
	for _, a := range allow {
		e, err := jid.Parse(a)
		switch {
		case err != nil:
		case e.Localpart() == "":
			ix.domains[e.Domainpart()] = true
			ix.users[e.Domainpart()] = true
		default:
			ix.bares[e.Bare().String()] = true
			ix.users[e.Domainpart()] = true
		}
	}
	return ix
}

// allowed is Allowed's answer for bareJID.
func (ix *allowIndex) allowed(bareJID string) bool {
	ix.mu.Lock()
	ok, known := ix.answers[bareJID]
	ix.mu.Unlock()
	if known {
		return ok
	}
	if j, err := jid.Parse(bareJID); err == nil {
		ok = ix.domains[j.Domainpart()] || ix.bares[j.Bare().String()]
	}
	if len(bareJID) > maxAnsweredLen {
		return ok
	}
	ix.mu.Lock()
	if len(ix.answers) >= maxAnswers {
		clear(ix.answers)
	}
	ix.answers[bareJID] = ok
	ix.mu.Unlock()
	return ok
}
