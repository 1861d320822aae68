package component

import (
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
)

// handlePresence approves subscriptions to the gateway and its contacts and
// answers probes: a remote contact is shown as available, since SMS has no
// presence of its own.
func (g *Gateway) handlePresence(t xmlstream.TokenReadEncoder, in inStanza, from, to jid.JID) {
	switch in.Type {
	case "subscribe", "probe", "unsubscribe", "":
	default: // subscribed, unsubscribed, unavailable, error: nothing to answer
		return
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		if in.Type != "" {
			g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		}
		return
	}
	contact := to.Bare()
	if to.Localpart() != "" {
		remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
		if err != nil {
			g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
			return
		}
		if c, err := mapping.ContactJID(remote, g.domain.Domainpart()); err == nil {
			contact = c
		}
	}
	f, u := contact.String(), from.Bare().String()
	switch in.Type {
	case "subscribe":
		g.encode(t, presence{Type: "subscribed", ID: in.ID, From: f, To: u})
		g.encode(t, presence{From: f, To: u})
	case "unsubscribe":
		g.encode(t, presence{Type: "unsubscribed", ID: in.ID, From: f, To: u})
	case "probe":
		g.encode(t, presence{From: f, To: from.String()})
	case "":
		// Directed available presence: answer so the client shows the contact.
		if to.Localpart() == "" {
			g.encode(t, presence{From: f, To: from.String()})
		}
	}
}
