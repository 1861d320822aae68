package component

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/transports"
)

// Relay implements core.Core: what handleMessage does with a message to a
// contact, for a module's message to remote (a room's groupchat message).
func (g *Gateway) Relay(ctx context.Context, w router.Writer, s *router.Stanza, remote transports.Addr,
	then func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool)) error {
	return g.relay(ctx, w, s, "", remote, nil, then)
}

// RelayFrom implements core.Core.
func (g *Gateway) RelayFrom(ctx context.Context, w router.Writer, s *router.Stanza, account, remote transports.Addr, body string,
	then func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool)) error {
	return g.relay(ctx, w, s, account, remote, &body, then)
}

// relay is Relay, from account if it is set, with body if it is not nil.
func (g *Gateway) relay(ctx context.Context, w router.Writer, s *router.Stanza, account, remote transports.Addr, body *string,
	then func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool)) error {
	in, err := g.readInStanza(s)
	if err != nil {
		return err
	}
	if body != nil {
		in.Body = body
	}
	if g.nothingToRelay(in, s.From, s.To) {
		return nil
	}
	bare := s.From.Bare().String()
	if !g.allowed(bare) {
		return newError("auth", "forbidden", bare+" may not use this gateway")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if account == "" {
		var e *stanzaError
		if account, e = g.mayRelay(ctx, bare, in.ID, remote); e != nil {
			return e
		}
	} else if e := g.overQuota(bare, in.ID, 1); e != nil {
		return e
	}
	m := relayed(in)
	g.queueMessageThen(w, in, s.From, s.To, func(ctx context.Context, w router.Writer, resent bool) { then(ctx, w, m, resent) },
		msgTarget{remote, account})
	return nil
}

// nothingToRelay reports whether in carries nothing to relay: a chat state
// or a body-less notification. A "composing" is passed on.
func (g *Gateway) nothingToRelay(in inStanza, from, to jid.JID) bool {
	if (in.Body == nil || *in.Body == "") && len(in.OOB) == 0 && in.Retract == nil && in.ApplyTo == nil && in.Reactions == nil {
		if in.Composing != nil {
			g.composing(from, to)
		}
		if in.Displayed != nil && in.Displayed.ID != "" {
			g.displayed(from, to, in.Displayed.ID)
		}
		return true
	}
	return false
}

// mayRelay returns the account user sends message id to remote from, or the
// stanza error that refuses it: no account (accountFor), or over the
// user's hourly quota.
func (g *Gateway) mayRelay(ctx context.Context, user, id string, remote transports.Addr) (transports.Addr, *stanzaError) {
	account, e := g.accountFor(ctx, user, remote)
	if e != nil {
		return "", e
	}
	if e := g.overQuota(user, id, 1); e != nil {
		return "", e
	}
	return account, nil
}

// relayed is in as Relay hands it to its caller (see core.Core.Relay).
func relayed(in inStanza) *stanza.Message {
	m := &stanza.Message{ID: in.ID, Replace: in.Replace, Retract: in.Retract, Reacts: in.Reactions, Reply: in.Reply}
	if in.Body != nil {
		m.Body = *in.Body
	}
	if len(in.OOB) > 0 {
		m.OOB = &in.OOB[0]
	}
	if in.Reply != nil && len(in.Fallbacks) > 0 {
		m.Fallback = &in.Fallbacks[0]
	}
	return m
}
