package component

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"xmppgw/component/stanza"
	"xmppgw/transports"
)

// The core's part for transports users sign in to (transports.Login):
// their contacts join the user's roster, and the user is told when a
// session ends.

var (
	_ transports.AccountSink = (*Gateway)(nil)
	_ transports.Access      = (*Gateway)(nil)
)

// Contacts implements transports.AccountSink: each contact is added to the
// roster of the user signed in as account, with its name, by the stanzas
// the roster module makes (a roster push where the server grants it, else
// a subscription request), queued durably. A user not in access.allow is
// told nothing (see signedInUsers).
func (g *Gateway) Contacts(ctx context.Context, account transports.Addr, contacts []transports.Contact) error {
	users := g.signedInUsers(account)
	if len(users) == 0 {
		return transports.ErrNoRecipient
	}
	var stanzas [][]byte
	for _, c := range contacts {
		jid, err := g.contactJID(c.Addr)
		if err != nil {
			g.log.Warn("a contact's address makes no JID; skipped", "remote", c.Addr, "err", err)
			continue
		}
		for _, u := range users {
			stanzas = append(stanzas, g.links.AddContact(jid.String(), u, c.Name)...)
		}
	}
	return g.queueStanzas(ctx, stanzas...)
}

// signedInUsers returns the users signed in as account who may use the
// gateway: one the operator took out of access.allow is sent nothing of
// the account's (the transport does not resume such a user's session, see
// transports.Access; this holds for one that runs all the same).
func (g *Gateway) signedInUsers(account transports.Addr) []string {
	users, barred := g.allowedOnly(g.ownersOfAccount(account))
	if len(barred) > 0 {
		g.log.Debug("nothing of the account relayed to users not in access.allow", "account", account, "user", strings.Join(barred, ","))
	}
	return users
}

// Notify implements transports.AccountSink: a chat message from the
// gateway's JID to user, queued durably.
func (g *Gateway) Notify(ctx context.Context, user, text string) error {
	st := render(message{Type: "chat", ID: "notice-" + newSessionID(), From: g.domain.String(), To: user, Body: text})
	return g.queueStanzas(ctx, st)
}

// Presence implements transports.AccountSink: the contact's presence to
// the user signed in as account, queued durably, and kept in memory to
// answer probes. A contact that is not online is shown as extended away,
// with when it was last seen.
func (g *Gateway) Presence(ctx context.Context, account, remote transports.Addr, online bool, lastSeen time.Time) error {
	jid, err := g.contactJID(remote)
	if err != nil {
		return err
	}
	var now shown
	if !online {
		now.show = "xa"
		if !lastSeen.IsZero() {
			now.status = "Last seen " + lastSeen.UTC().Format("2006-01-02 15:04") + " UTC"
		}
	}
	g.presences.set(account, remote, now) // for probes (presence.go)
	p := stanza.Presence{From: jid.String(), Show: now.show, Status: now.status}
	var stanzas [][]byte
	for _, u := range g.signedInUsers(account) {
		p.To = u
		stanzas = append(stanzas, render(p))
	}
	return g.queueStanzas(ctx, stanzas...)
}

// Typing implements transports.AccountSink: a "composing" chat state from
// the contact to the user signed in as account, queued like any stanza
// (a restart may deliver it late; clients expire it).
func (g *Gateway) Typing(ctx context.Context, account, remote transports.Addr) error {
	jid, err := g.contactJID(remote)
	if err != nil {
		return err
	}
	var stanzas [][]byte
	for _, u := range g.signedInUsers(account) {
		stanzas = append(stanzas, []byte(`<message type="chat" from="`+xmlAttr(jid.String())+`" to="`+xmlAttr(u)+
			`"><composing xmlns="`+nsChatState+`"/><no-store xmlns="urn:xmpp:hints"/></message>`))
	}
	return g.queueStanzas(ctx, stanzas...)
}

// xmlAttr escapes s for an XML attribute value (quotes included).
func xmlAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ownPrefix starts the text of a user's own message written in another
// app of the network.
func ownPrefix(network string) string {
	return fmt.Sprintf("[You, from another %s app] ", network)
}
