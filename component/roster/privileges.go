package roster

import (
	"context"
	"encoding/xml"
	"sync"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// privilegeElem is the server's XEP-0356 advertisement; only its perms are
// read (v2's <namespace/> elements, for IQs, are not used).
type privilegeElem struct {
	Perms []struct {
		Access string `xml:"access,attr"`
		Type   string `xml:"type,attr"`
	} `xml:"perm"`
}

// rosterSet reports whether p grants writing rosters.
func (p *privilegeElem) rosterSet() bool {
	for _, perm := range p.Perms {
		if perm.Access == "roster" && (perm.Type == "set" || perm.Type == "both") {
			return true
		}
	}
	return false
}

// messageOutgoing reports whether p grants sending messages as the
// server's users.
func (p *privilegeElem) messageOutgoing() bool {
	for _, perm := range p.Perms {
		if perm.Access == "message" && perm.Type == "outgoing" {
			return true
		}
	}
	return false
}

// advertisement handles the server's privilege advertisement: it records
// whether the server's domain lets the gateway set rosters. It answers
// nothing. A message that is not from a server is no advertisement: it
// goes on to the core's message route, as any other message. One from a
// domain no user of the gateway is of (core.Core.UserDomain: any server
// can send one, over s2s) is ignored: it neither grants anything nor ends
// the wait for the user's server's (askConfigLinksOnConnect), and it is
// not kept.
func (r *Roster) advertisement(_ context.Context, _ router.Writer, s *router.Stanza) error {
	from := s.From
	if from.Localpart() != "" || from.Resourcepart() != "" || from.Domainpart() == r.c.Domain().Domainpart() {
		return router.Pass
	}
	if !r.c.UserDomain(from.Domainpart()) {
		r.quiet.Info("server privileges (XEP-0356) from a domain access.allow does not name; ignored", "server", from.String())
		return nil
	}
	var p privilegeElem
	for _, ns := range []string{NSPrivilege2, NSPrivilege1} {
		err := s.EachChild(xml.Name{Space: ns, Local: "privilege"}, func(decode func(any) error) error {
			return decode(&p) // the perms of every <privilege/> add up
		})
		if err != nil {
			return err
		}
	}
	ok, msg := p.rosterSet(), p.messageOutgoing()
	r.privs.set(from.Domainpart(), ok, msg)
	r.log.Info("server privileges (XEP-0356)", "server", from.String(), "roster_set", ok, "message_outgoing", msg)
	return nil
}

// privileges records, per user domain, whether its server lets the gateway
// set rosters. It lives in memory: the server tells again after every
// connection, and it is forgotten when the connection drops. Only the
// config's user domains are recorded, so it holds a few.
type privileges struct {
	mu      sync.Mutex
	roster  map[string]bool // domain -> roster set granted
	message map[string]bool // domain -> messages as its users granted
	heard   chan struct{}   // closed once a user domain's server has advertised, since the last reset
}

func (p *privileges) set(domain string, ok, message bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.roster == nil {
		p.roster, p.message = map[string]bool{}, map[string]bool{}
	}
	p.roster[domain], p.message[domain] = ok, message
	if h := p.heardLocked(); !isDone(h) {
		close(h)
	}
}

// advertised returns a channel closed once a user domain's server has
// advertised its privileges on the current session.
func (p *privileges) advertised() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heardLocked()
}

func (p *privileges) heardLocked() chan struct{} {
	if p.heard == nil {
		p.heard = make(chan struct{})
	}
	return p.heard
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// rosterSet reports whether rosters of user (a bare JID) can be set.
func (p *privileges) rosterSet(user string) bool {
	j, err := jid.Parse(user)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roster[j.Domainpart()]
}

// messageAs reports whether messages can be sent as user (a bare JID).
func (p *privileges) messageAs(user string) bool {
	j, err := jid.Parse(user)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.message[j.Domainpart()]
}

func (p *privileges) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roster, p.message = nil, nil
	p.heard = nil
}
