package roster

import (
	"context"
	"encoding/xml"
	"log/slog"
	"sync/atomic"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/internal/quietlog"
	"xmppgw/transports"
)

// The XEP's namespaces.
const (
	NSPrivilege1 = "urn:xmpp:privilege:1" // the XEP's first version, still used by older servers
	NSPrivilege2 = "urn:xmpp:privilege:2" // Prosody's mod_privilege (prosody-modules 2023)
	NSRoster     = "jabber:iq:roster"
)

// serverPriority puts the module's routes above every other route that
// could match the same stanzas: what they handle only the server sends,
// and nothing else may act on it.
const serverPriority = 100

func init() {
	core.Register(core.Module{Name: "roster", New: New})
}

// Roster is the module built for one gateway.
type Roster struct {
	c      core.Core
	log    *slog.Logger
	quiet  *slog.Logger      // for what any server can make it log (quietlog)
	linker transports.Linker // nil unless contacts are linked one by one
	signIn bool              // users sign in to the transport (transports.Login)
	privs  privileges
	asking atomic.Bool // the config's links are being added
}

var (
	_ core.Instance       = (*Roster)(nil)
	_ core.Contacts       = (*Roster)(nil)
	_ core.SessionWatcher = (*Roster)(nil)
)

// New builds the module for the gateway c.
func New(c core.Core) core.Instance {
	r := &Roster{c: c, log: c.Logger(), quiet: quietlog.New(c.Logger())}
	r.linker, _ = c.Transport().(transports.Linker)
	_, r.signIn = c.Transport().(transports.Login)
	return r
}

// Routes implements core.Instance: the server's privilege advertisement
// (either version of the XEP), which comes to the gateway JID, and its
// answers to roster pushes.
func (r *Roster) Routes() []router.Route {
	adv := router.HandlerFunc(r.advertisement)
	return []router.Route{
		{Kind: router.Message, Payload: xml.Name{Space: NSPrivilege2, Local: "privilege"}, Targets: router.Gateway,
			Priority: serverPriority, Handler: adv},
		{Kind: router.Message, Payload: xml.Name{Space: NSPrivilege1, Local: "privilege"}, Targets: router.Gateway,
			Priority: serverPriority, Handler: adv},
		// The answers come to the gateway JID, from which the pushes were
		// sent; the handler takes only those with a push's id.
		{Kind: router.IQ, Types: []string{"result", "error"}, Targets: router.Gateway, Priority: serverPriority,
			Handler: router.HandlerFunc(r.pushAnswer)},
	}
}

// SessionChanged implements core.SessionWatcher: the privileges are
// forgotten when the session drops, so that a new one only uses what its
// server grants; when one is up, the config's links that never asked are
// added to their users' rosters.
func (r *Roster) SessionChanged(up bool) {
	if !up {
		r.privs.reset()
		return
	}
	if r.linker == nil || len(r.linker.StaticLinks()) == 0 {
		return
	}
	if !r.asking.CompareAndSwap(false, true) {
		return // still at it, from an earlier session
	}
	r.c.Go(func(ctx context.Context) {
		defer r.asking.Store(false)
		r.askConfigLinksOnConnect(ctx)
	})
}

// AddContact implements core.Contacts. With the roster privilege: a
// roster push, in a group named after the transport, and the contact's
// presence. Without: the contact asks the user to subscribe.
func (r *Roster) AddContact(contact, user, nick string) []any {
	if n := r.c.ContactName(contact); n != "" {
		nick = n // the operator's address book names it
	}
	if !r.privs.rosterSet(user) {
		return []any{stanza.Presence{Type: "subscribe", From: contact, To: user, Nick: nick}}
	}
	var groups []string
	if name := r.c.Identity().Name; name != "" {
		groups = []string{name}
	}
	return []any{
		r.push("add", contact, user, item{Name: nick, Subscription: "both", Groups: groups}),
		stanza.Presence{From: contact, To: user},
	}
}

// MessageAs implements core.Contacts: the user's server granted XEP-0356's
// message permission ("outgoing").
func (r *Roster) MessageAs(user string) bool { return r.privs.messageAs(user) }

// DropContact implements core.Contacts: the contact goes offline, then is
// removed (with the roster privilege) or cancels both subscriptions.
func (r *Roster) DropContact(contact, user string) []any {
	off := stanza.Presence{Type: "unavailable", From: contact, To: user}
	if r.privs.rosterSet(user) {
		return []any{off, r.push("remove", contact, user, item{Subscription: "remove"})}
	}
	return append([]any{off}, unsubscribe(contact, user)...)
}

func unsubscribe(contact, user string) []any {
	return []any{
		stanza.Presence{Type: "unsubscribed", From: contact, To: user},
		stanza.Presence{Type: "unsubscribe", From: contact, To: user},
	}
}

// render serialises stanzas for the store.
func render(vs []any) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = stanza.Render(v)
	}
	return out
}
