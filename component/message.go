package component

import (
	"context"
	"errors"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
)

// handleMessage turns a chat or normal message to a contact into a job.
func (g *Gateway) handleMessage(t xmlstream.TokenReadEncoder, in inStanza, from, to jid.JID) {
	switch in.Type {
	case "", "normal", "chat":
	case "error":
		g.log.Debug("error from XMPP", "from", from.String(), "id", in.ID)
		return
	case "headline":
		return // RFC 6121: never answered
	default:
		g.reply(t, in, from, to, newError("cancel", "feature-not-implemented", "only chat and normal messages are relayed"))
		return
	}
	if in.Body == nil || *in.Body == "" {
		return // chat states and other body-less notifications carry nothing to relay
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		return
	}
	if to.Localpart() == "" {
		g.reply(t, in, from, to, newError("modify", "bad-request",
			"write to NUMBER@"+g.domain.String()+" to reach a contact; this is the gateway itself"))
		return
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil {
		g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
		return
	}
	// remote is canonical (E.164): replies come from its JID whatever was typed.
	account, ok := g.o.Transport.Accounts()[bare]
	if !ok {
		g.reply(t, in, from, to, newError("auth", "registration-required",
			bare+" has no "+g.o.Identity.Name+" account on this gateway; ask the operator to add one"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	_, err = g.o.Store.Enqueue(ctx, mapping.Job{
		Transport: g.name,
		Sender:    from.String(),
		Account:   string(account),
		Remote:    string(remote),
		Body:      *in.Body,
		StanzaID:  in.ID,
		Receipt:   in.Request != nil,
	})
	if err != nil {
		g.log.Error("cannot store message; refused", "err", err, "id", in.ID)
		cond := "internal-server-error"
		if errors.Is(err, mapping.ErrUnavailable) {
			cond = "resource-constraint"
		}
		g.reply(t, in, from, to, newError("wait", cond, "the gateway cannot store messages right now; try again later"))
		return
	}
	wake(g.wakeOut)
}
