package component

import (
	"context"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
)

// register answers XEP-0077 on the gateway JID of a Linker transport.
// Asking for the form gets instructions with a fresh link code; submitting
// it sends the code again as a chat message; removing the registration
// unlinks every chat the user linked with a code.
func (g *Gateway) register(t xmlstream.TokenReadEncoder, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	if !g.allowed(user) {
		g.reply(t, in, from, to, newError("auth", "forbidden", user+" may not use this gateway"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	result := func(p any) {
		g.encode(t, iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: p})
	}
	if in.Type == "set" && in.Payload.Remove != nil {
		if _, err := g.unlinkUser(ctx, user); err != nil {
			g.reply(t, in, from, to, storeError(err))
			return
		}
		result(nil)
		return
	}
	help, err := g.newLinkCode(ctx, user)
	if err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	if in.Type == "set" {
		result(nil)
		g.encode(t, message{Type: "chat", From: g.domain.String(), To: from.String(), Body: help})
		return
	}
	q := registerQuery{Instructions: help}
	links, err := g.o.Store.LinksOf(ctx, g.name, user)
	if err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	if len(links) > 0 {
		q.Registered = &struct{}{}
	}
	result(q)
}
