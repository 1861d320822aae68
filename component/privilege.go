package component

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
)

// XEP-0356 (Privileged Entity): a server may let the gateway edit its
// users' rosters. It says so after the component connects, with a message
// from each of its domains:
//
//	<message from="example.test" to="tg.example.test">
//	  <privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege>
//	</message>
//
// Where roster "set" is granted, a linked contact is pushed straight into
// the user's roster (in a group named after the transport) instead of
// asking the user to subscribe, and removed from it on unlink.
const (
	nsPrivilege1 = "urn:xmpp:privilege:1" // the XEP's first version, still used by older servers
	nsPrivilege2 = "urn:xmpp:privilege:2" // Prosody's mod_privilege (prosody-modules 2023)
)

// privilegeElem is the server's XEP-0356 advertisement.
type privilegeElem struct {
	Perms []perm
}

type perm struct{ Access, Type string }

// rosterSet reports whether p grants writing rosters.
func (p *privilegeElem) rosterSet() bool {
	for _, perm := range p.Perms {
		if perm.Access == "roster" && (perm.Type == "set" || perm.Type == "both") {
			return true
		}
	}
	return false
}

// errorElem is a stanza error, read from the server's answer to a roster push.
type errorElem struct {
	Type, Condition, Text string
}

// serverSpy watches the tokens of a stanza while HandleXMPP decodes it, for
// what only the server sends the gateway: an XEP-0356 privilege
// advertisement and the error in an answer to a roster push.
type serverSpy struct {
	r     xml.TokenReader
	depth int
	in    string // the child of the stanza being read: "privilege", "error" or ""
	text  bool   // in the error's text
	priv  *privilegeElem
	err   *errorElem
}

func (s *serverSpy) Token() (xml.Token, error) {
	tok, err := s.r.Token()
	switch t := tok.(type) {
	case xml.StartElement:
		s.depth++
		ns := namespace(t)
		switch {
		case s.depth == 2 && t.Name.Local == "privilege" && (ns == nsPrivilege1 || ns == nsPrivilege2):
			s.in = "privilege"
			if s.priv == nil {
				s.priv = &privilegeElem{}
			}
		case s.depth == 2 && t.Name.Local == "error" && s.err == nil:
			s.in = "error"
			s.err = &errorElem{Type: attr(t, "type")}
		case s.depth == 3 && s.in == "privilege" && t.Name.Local == "perm":
			s.priv.Perms = append(s.priv.Perms, perm{Access: attr(t, "access"), Type: attr(t, "type")})
		case s.depth == 3 && s.in == "error" && ns == nsStanzas && t.Name.Local == "text":
			s.text = true
		case s.depth == 3 && s.in == "error" && ns == nsStanzas && s.err.Condition == "":
			s.err.Condition = t.Name.Local
		}
	case xml.EndElement:
		switch s.depth {
		case 2:
			s.in = ""
		case 3:
			s.text = false
		}
		s.depth--
	case xml.CharData:
		if s.text {
			s.err.Text += string(t)
		}
	}
	return tok, err
}

// namespace is the namespace of an element, resolved or not.
func namespace(t xml.StartElement) string {
	if t.Name.Space != "" {
		return t.Name.Space
	}
	return attr(t, "xmlns")
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// privileges records, per user domain, whether its server lets the gateway
// set rosters. It lives in memory: the server tells again after every
// connection, and it is forgotten when the connection drops.
type privileges struct {
	mu     sync.Mutex
	roster map[string]bool // domain -> roster set granted
	heard  chan struct{}   // closed once a server has advertised, since the last reset
}

func (p *privileges) set(domain string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.roster == nil {
		p.roster = map[string]bool{}
	}
	p.roster[domain] = ok
	if h := p.heardLocked(); !isDone(h) {
		close(h)
	}
}

// advertised returns a channel closed once a server has advertised its
// privileges on the current session.
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

func (p *privileges) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roster = nil
	p.heard = nil
}

// forgetPrivilegesOnDrop clears the privileges when the link goes down, so
// that a new session only uses what its server grants.
func (g *Gateway) forgetPrivilegesOnDrop() {
	next := g.o.Link.OnChange
	g.o.Link.OnChange = func(up bool) {
		if !up {
			g.privs.reset()
		}
		if next != nil {
			next(up)
		}
	}
}

// privilegeStanza handles the server's privilege advertisement and its
// answers to roster pushes. It reports whether s was one of those.
func (g *Gateway) privilegeStanza(kind string, in inStanza, s *serverSpy, from jid.JID) bool {
	switch {
	case kind == "message" && s.priv != nil:
		if from.Localpart() != "" || from.Resourcepart() != "" || from.Domainpart() == g.domain.Domainpart() {
			g.log.Warn("privilege advertisement not from a server ignored", "from", from.String())
			return true
		}
		ok := s.priv.rosterSet()
		g.privs.set(from.Domainpart(), ok)
		g.log.Info("server privileges (XEP-0356)", "server", from.String(), "roster_set", ok)
		return true
	case kind == "iq" && (in.Type == "result" || in.Type == "error") && strings.HasPrefix(in.ID, rosterIDPrefix) &&
		from.Resourcepart() == "":
		// The server answers from the user's bare JID; a client could
		// not send that.
		g.rosterAnswer(in, s.err, from)
		return true
	}
	return false
}

const rosterIDPrefix = "roster."

// rosterPushID names a roster push: op ("add" or "remove") and the contact
// are in it, so that an error answered later (even after a restart) can be
// acted on.
func rosterPushID(op, contact string) string {
	return rosterIDPrefix + op + "." + base64.RawURLEncoding.EncodeToString([]byte(contact)) + "." + newSessionID()
}

// rosterItem is one jabber:iq:roster item.
type rosterItem struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr"`
	Groups       []string `xml:"group"`
}

type rosterQuery struct {
	XMLName xml.Name     `xml:"jabber:iq:roster query"`
	Items   []rosterItem `xml:"item"`
}

// rosterPush sets (or, with subscription "remove", removes) contact in
// user's roster, on the privilege the user's server granted.
func (g *Gateway) rosterPush(op, contact, user string, item rosterItem) iq {
	item.JID = contact
	return iq{Type: "set", ID: rosterPushID(op, contact), From: g.domain.String(), To: user,
		Payload: rosterQuery{Items: []rosterItem{item}}}
}

// addContact is what makes contact (named nick, if known) a contact of
// user when they are linked. With the roster privilege: a roster push, in
// a group named after the transport, and the contact's presence. Without:
// the contact asks the user to subscribe.
func (g *Gateway) addContact(contact, user, nick string) [][]byte {
	if !g.privs.rosterSet(user) {
		return [][]byte{render(presence{Type: "subscribe", From: contact, To: user, Nick: nick})}
	}
	var groups []string
	if g.o.Identity.Name != "" {
		groups = []string{g.o.Identity.Name}
	}
	return [][]byte{
		render(g.rosterPush("add", contact, user, rosterItem{Name: nick, Subscription: "both", Groups: groups})),
		render(presence{From: contact, To: user}),
	}
}

// dropContact takes contact off user's roster when they are unlinked: it
// goes offline, then is removed (with the roster privilege) or cancels
// both subscriptions.
func (g *Gateway) dropContact(contact, user string) [][]byte {
	off := render(presence{Type: "unavailable", From: contact, To: user})
	if g.privs.rosterSet(user) {
		return [][]byte{off, render(g.rosterPush("remove", contact, user, rosterItem{Subscription: "remove"}))}
	}
	return append([][]byte{off}, unsubscribeStanzas(contact, user)...)
}

func unsubscribeStanzas(contact, user string) [][]byte {
	return [][]byte{
		render(presence{Type: "unsubscribed", From: contact, To: user}),
		render(presence{Type: "unsubscribe", From: contact, To: user}),
	}
}

// rosterAnswer handles the server's answer to a roster push. An error is
// logged and, if the link still stands as pushed, the subscription
// presences are sent instead.
func (g *Gateway) rosterAnswer(s inStanza, e *errorElem, from jid.JID) {
	parts := strings.Split(s.ID, ".")
	var contact string
	if len(parts) == 4 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[2]); err == nil {
			contact = string(b)
		}
	}
	op := ""
	if len(parts) > 1 {
		op = parts[1]
	}
	if s.Type == "result" {
		g.log.Debug("roster push applied", "op", op, "user", from.String(), "contact", contact)
		return
	}
	cond, text := "", ""
	if e != nil {
		cond, text = e.Condition, e.Text
	}
	user := from.Bare().String()
	if op == "remove" && cond == "item-not-found" {
		g.log.Info("contact already off the user's roster", "user", user, "contact", contact)
		return
	}
	g.log.Warn("roster push refused by the server; falling back to presence subscription",
		"op", op, "user", user, "contact", contact, "condition", cond, "text", text, "stanza_id", s.ID)
	c, err := jid.Parse(contact)
	if err != nil || c.Domainpart() != g.domain.Domainpart() || c.Localpart() == "" {
		return
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(c))
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	l, linked, err := g.o.Store.LinkOf(ctx, g.name, string(remote))
	if err != nil {
		g.log.Error("roster push fallback: reading the link failed", "err", err, "remote", remote)
		return
	}
	var stanzas [][]byte
	switch {
	case op == "add" && linked && l.User == user:
		stanzas = [][]byte{render(presence{Type: "subscribe", From: contact, To: user, Nick: l.Name})}
	case op == "remove" && !(linked && l.User == user):
		stanzas = unsubscribeStanzas(contact, user)
	default:
		return // the link changed since: nothing to make up for
	}
	if _, err := g.o.Store.Accept(ctx, g.name, "roster-fallback:"+s.ID, stanzas...); err != nil {
		g.log.Error("roster push fallback: queueing failed", "err", err, "remote", remote)
		return
	}
	wake(g.wakeIn)
}
