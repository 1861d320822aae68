package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/alerts"
	"xmppgw/component/router"
	"xmppgw/transports"
)

// Answers takes recipients' answers to alerts. alerts.Desk implements it;
// see its Answer for the contract.
type Answers interface {
	Answer(ctx context.Context, from, text, replyTo, key string, always bool) (handled bool, err error)
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
// is not answered twice, and the desk knows it by the same key.
func (g *Gateway) contactAnswer(ctx context.Context, in transports.Inbound, contact string) (bool, error) {
	if g.answers == nil || in.Body == "" || in.ReactTo != "" {
		return false, nil
	}
	key := ""
	if in.ID != "" {
		key = "answer:" + in.ID
	}
	return g.answerOnce(ctx, key, func(ctx context.Context) (bool, error) {
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
		handled, err := g.answers.Answer(ctx, contact, in.Body, replyTo, deskKey(g.name, key), false)
		if handled && err == nil {
			g.log.Info("an answer to an alert", "from", contact, "provider_id", in.ID)
		}
		return handled, err
	})
}

// deskKey is the key the desk knows an answer by: key, on this transport.
func deskKey(transport, key string) string {
	if key == "" {
		return ""
	}
	return transport + "\x00" + key
}

// answerOnce runs offer once for key ("": every time): deliveries of one
// key that overlap take turns (a webhook retried while the first waits on
// Alertmanager), and one that offer handled is recorded, so that a
// delivery again is handled without offer.
func (g *Gateway) answerOnce(ctx context.Context, key string, offer func(ctx context.Context) (bool, error)) (bool, error) {
	if key == "" {
		return offer(ctx)
	}
	unlock, err := g.answering.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	switch taken, err := g.o.Store.ToXMPP().Taken(ctx, g.name, key); {
	case err != nil:
		return false, err
	case taken:
		g.log.Info("an answer to an alert delivered again; answered already", "key", key)
		return true, nil
	}
	handled, err := offer(ctx)
	if handled && err == nil {
		// Answered: failing to record it only risks offering a delivery
		// of it again (which the desk knows by its key), which is better
		// than having it sent again now.
		if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, key); err != nil {
			g.log.Warn("an answer to an alert could not be recorded as answered", "key", key, "err", err)
		}
	}
	return handled, err
}

// answerTimeout bounds an XMPP user's answer: the store, and Alertmanager
// for a silence.
const answerTimeout = storeTimeout + alerts.SilenceTimeout

// xmppAnswer offers a message to the gateway's JID to the answers, off
// the read loop; if it is not an answer, next handles it. A user who may
// use the gateway is answered even without an open alert; anyone else
// only as a recipient of one (an alert may go to any XMPP user), so that
// strangers cannot have the gateway store answers for them. A message
// resent with the same stanza id and text within alertWindow of its first
// delivery (a client reconnecting) is answered once (xmppAnswerOnce).
func (g *Gateway) xmppAnswer(t router.Writer, in inStanza, from, to jid.JID, next func(ctx context.Context, t router.Writer)) {
	body := *in.Body
	replyTo := ""
	if in.Reply != nil {
		replyTo = in.Reply.ID
	}
	bare := from.Bare().String()
	now := time.Now()
	key := xmppAnswerKey(bare, in.ID, body)
	err := g.Later(from, t, func(ctx context.Context, t router.Writer) {
		ctx, cancel := context.WithTimeout(ctx, answerTimeout)
		defer cancel()
		handled, err := g.xmppAnswerOnce(ctx, key, now, func(ctx context.Context, dk string) (bool, error) {
			return g.answers.Answer(ctx, bare, body, replyTo, deskKey(g.name, dk), g.allowed(bare))
		})
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

// xmppAnswerKey is the key of an XMPP answer with stanza id and body
// from bare ("" without an id): its sender, id and a hash of its text, so
// that only the same text resent under the same id is one answer (simple
// clients reuse ids).
func xmppAnswerKey(bare, id, body string) string {
	if id == "" {
		return ""
	}
	h := sha256.Sum256([]byte(body))
	return "answer-xmpp:" + bare + "\x00" + id + "\x00" + hex.EncodeToString(h[:12])
}

// xmppAnswerOnce runs offer for the XMPP answer key ("": every time),
// delivered at, unless it was answered within alertWindow before: a
// delivery within alertWindow of the first delivery the desk took is the
// same answer (handled without offer once it was answered; the desk knows
// it by the first's key, dk, should the first have failed after the desk
// acted), and the same text under the same id later on is another answer.
// Deliveries of one key take turns. The core's KV holds, under key, when
// the first was delivered, and "+" once it was answered.
func (g *Gateway) xmppAnswerOnce(ctx context.Context, key string, at time.Time, offer func(ctx context.Context, dk string) (bool, error)) (bool, error) {
	if key == "" {
		return offer(ctx, "")
	}
	unlock, err := g.answering.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	kv := g.coreKV()
	v, err := kv.Get(ctx, key)
	if err != nil {
		return false, err
	}
	first, took := at.UnixMilli(), false
	ms, done := strings.CutSuffix(v, "+")
	if t, perr := strconv.ParseInt(ms, 10, 64); perr == nil && at.Sub(time.UnixMilli(t)).Abs() < alertWindow {
		if done {
			g.log.Info("an answer to an alert delivered again; answered already", "key", key)
			return true, nil
		}
		first, took = t, true // the desk took the first: its key
	}
	dk := key + "\x00" + strconv.FormatInt(first, 10)
	handled, err := offer(ctx, dk)
	if handled && (err == nil || !took) {
		// Failing to record it only risks offering a delivery of it again
		// (which the desk knows by dk), which is better than having it
		// sent again now.
		rec := strconv.FormatInt(first, 10)
		if err == nil {
			rec += "+"
		}
		if err := kv.SetUntil(ctx, key, rec, time.UnixMilli(first).Add(alertWindow)); err != nil {
			g.log.Warn("an answer to an alert could not be recorded", "key", key, "err", err)
		}
	}
	return handled, err
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
