package component

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// handlePresence answers subscriptions and probes. The gateway JID shows
// whether the network can be reached. A contact of a Linker transport is
// available to the user it is linked to and refuses everyone else; a
// contact of a transport users sign in to (telegram-user) is shown as the
// network last reported it to the user's account (a group, which has no
// presence, is available); other contacts (phone numbers, which have no
// presence of their own) are always available.
func (g *Gateway) handlePresence(t router.Writer, in inStanza, from, to jid.JID) {
	// Joins and leaves of rooms, and errors from their occupants, are
	// package muc's.
	switch in.Type {
	case "subscribe", "subscribed", "probe", "unsubscribe", "":
	default: // unsubscribed, unavailable, error: nothing to answer
		return
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		if in.Type != "" && in.Type != "subscribed" {
			g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		}
		return
	}
	contact := to.Bare()
	linked := true
	var remote transports.Addr
	if to.Localpart() != "" {
		var err error
		remote, err = g.o.Transport.ParseAddr(mapping.AddrOf(to))
		if err != nil {
			g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
			return
		}
		if c, err := g.contactJID(remote); err == nil {
			contact = c
		}
		if g.linker != nil {
			ctx, cancel := context.WithTimeout(g.readCtx(), storeTimeout)
			linked, err = g.linkedTo(ctx, remote, bare)
			cancel()
			if err != nil {
				g.reply(t, in, from, to, storeError(err))
				return
			}
		}
	}
	f, u := contact.String(), from.Bare().String()
	available := presence{From: f, To: from.String()}
	if to.Localpart() == "" {
		available = g.gatewayPresence(from.String())
	} else if linked {
		// XEP-0153: the picture's hash, if known; if not, it is learned
		// in the background and sent in a presence of its own.
		available.Avatar = g.avatarUpdate(u, remote)
		if available.Avatar == nil && in.Type != "unsubscribe" {
			g.refreshAvatar(remote, u)
		}
		if g.login != nil && !g.isRoom(remote) {
			s := g.presences.get(g.o.Transport.Accounts()[u], remote)
			available.Show, available.Status = s.show, s.status
		}
	}
	switch {
	case in.Type == "unsubscribe" || !linked && in.Type == "subscribe":
		t.Encode(presence{Type: "unsubscribed", ID: in.ID, From: f, To: u})
	case !linked:
		if in.Type == "probe" {
			t.Encode(presence{Type: "unsubscribed", From: f, To: u})
		}
	case in.Type == "subscribe":
		t.Encode(presence{Type: "subscribed", ID: in.ID, From: f, To: u})
		available.To = u
		t.Encode(available)
	case in.Type == "subscribed", in.Type == "probe":
		// The user approved the contact's request, or the server asks on
		// the user's behalf (at login).
		t.Encode(available)
	case in.Type == "" && to.Localpart() == "":
		// Directed available presence: answer so the client shows the gateway.
		t.Encode(available)
	}
}
