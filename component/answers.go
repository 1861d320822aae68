package component

import (
	"context"
	"sync"

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
// send it again. A provider's event handled as an answer is recorded
// (answerKey): delivered again (a webhook retried, updates read again), it
// is not answered twice.
func (g *Gateway) contactAnswer(ctx context.Context, in transports.Inbound, contact string) (bool, error) {
	if g.answers == nil || in.Body == "" || in.ReactTo != "" {
		return false, nil
	}
	key := ""
	if in.ID != "" {
		key = "answer:" + in.ID
		// Deliveries of one event that overlap (a webhook retried while the
		// first waits on Alertmanager) take turns: the second finds the
		// first's answer recorded.
		unlock, err := g.answering.lock(ctx, key)
		if err != nil {
			return false, err
		}
		defer unlock()
		switch taken, err := g.o.Store.ToXMPP().Taken(ctx, g.name, key); {
		case err != nil:
			return false, err
		case taken:
			g.log.Info("an answer to an alert delivered again; answered already", "from", contact, "provider_id", in.ID)
			return true, nil
		}
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
		if key != "" {
			// Answered: failing to record it only risks answering a
			// delivery of it again, which is better than having the
			// provider retry it now.
			if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, key); err != nil {
				g.log.Warn("an answer to an alert could not be recorded as answered", "provider_id", in.ID, "err", err)
			}
		}
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
	err := g.Later(from, t, func(ctx context.Context, t router.Writer) {
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
	if err != nil {
		g.reply(t, in, from, to, errLaterBusy)
	}
}

// keyLocks lets one caller at a time hold a key.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when released
}

// lock waits until key is free, or ctx ends, and holds it until unlock.
func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		ch, busy := k.held[key]
		if !busy {
			if k.held == nil {
				k.held = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			k.held[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
