package component

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/transports"
)

// Answers takes recipients' answers to alerts. alerts.Desk implements it;
// see its Answer for the contract.
type Answers interface {
	Answer(ctx context.Context, from, text, replyTo string, always bool) (handled bool, err error)
}

// SetAnswers has g hand a's answers from its contacts (an SMS or a
// Telegram text that is an answer to an alert they got), and, if fromXMPP,
// from XMPP users writing to the gateway's JID (the alerts' sender). Call
// it before Run.
func (g *Gateway) SetAnswers(a Answers, fromXMPP bool) {
	g.answers, g.answersXMPP = a, fromXMPP
}

// contactAnswer offers in, from contact, to the answers: handled means it
// was an answer, and is not relayed. An error (the store) has the provider
// send it again.
func (g *Gateway) contactAnswer(ctx context.Context, in transports.Inbound, contact string) (bool, error) {
	if g.answers == nil || in.Body == "" || in.ReactTo != "" {
		return false, nil
	}
	replyTo := ""
	if in.ReplyTo != "" {
		id, found, err := g.o.Store.Jobs().StanzaIDOf(ctx, g.name, in.ReplyTo)
		if err != nil {
			return false, err
		}
		if found {
			replyTo = id
		}
	}
	handled, err := g.answers.Answer(ctx, contact, in.Body, replyTo, false)
	if handled && err == nil {
		g.log.Info("an answer to an alert", "from", contact, "provider_id", in.ID)
	}
	return handled, err
}

// xmppAnswer offers a message to the gateway's JID to the answers, off
// the read loop; if it is not an answer, next handles it. A user who may
// use the gateway is answered even without an open alert; anyone else
// only as a recipient of one (an alert may go to any XMPP user), so that
// strangers cannot have the gateway store answers for them.
func (g *Gateway) xmppAnswer(t router.Writer, in inStanza, from, to jid.JID, next func(ctx context.Context, t router.Writer)) {
	body := *in.Body
	replyTo := ""
	if in.Reply != nil {
		replyTo = in.Reply.ID
	}
	g.Later(t, func(ctx context.Context, t router.Writer) {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		bare := from.Bare().String()
		handled, err := g.answers.Answer(ctx, bare, body, replyTo, g.allowed(bare))
		switch {
		case err != nil:
			g.reply(t, in, from, to, storeError(err))
		case !handled:
			next(ctx, t)
		}
	})
}
