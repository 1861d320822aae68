package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
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
	return g.answerOnce(ctx, key, nil, func(ctx context.Context) (bool, error) {
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
// Alertmanager), and one that offer handled is recorded under marks (key
// itself if none; the first is the one looked up), so that a delivery
// again is handled without offer.
func (g *Gateway) answerOnce(ctx context.Context, key string, marks []string, offer func(ctx context.Context) (bool, error)) (bool, error) {
	if key == "" {
		return offer(ctx)
	}
	if len(marks) == 0 {
		marks = []string{key}
	}
	unlock, err := g.answering.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	switch taken, err := g.o.Store.ToXMPP().Taken(ctx, g.name, marks[0]); {
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
		for _, k := range marks {
			if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, k); err != nil {
				g.log.Warn("an answer to an alert could not be recorded as answered", "key", k, "err", err)
			}
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
// resent with the same stanza id within alertWindow (a client
// reconnecting) is answered once; another text under an id used before
// (simple clients reuse ids) is another answer.
func (g *Gateway) xmppAnswer(t router.Writer, in inStanza, from, to jid.JID, next func(ctx context.Context, t router.Writer)) {
	body := *in.Body
	replyTo := ""
	if in.Reply != nil {
		replyTo = in.Reply.ID
	}
	bare := from.Bare().String()
	now := time.Now()
	key, marks := xmppAnswerKey(bare, in.ID, body, now)
	err := g.Later(from, t, func(ctx context.Context, t router.Writer) {
		ctx, cancel := context.WithTimeout(ctx, answerTimeout)
		defer cancel()
		handled, err := g.answerOnce(ctx, key, marks, func(ctx context.Context) (bool, error) {
			dk, first, err := g.xmppDeskKey(ctx, key, now)
			if err != nil {
				return false, err
			}
			handled, err := g.answers.Answer(ctx, bare, body, replyTo, deskKey(g.name, dk), g.allowed(bare))
			if handled && first != "" {
				if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, first); err != nil {
					g.log.Warn("an answer to an alert could not be recorded as begun", "key", first, "err", err)
				}
			}
			return handled, err
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
// clients reuse ids). The key has no window: a resend crossing a window's
// end takes turns with the first under it (the desk knows it by the
// window of the first delivery: xmppDeskKey). marks are what is recorded
// once it is answered: the key in the window of now and in the next, so
// that the record expires with the windows.
func xmppAnswerKey(bare, id, body string, now time.Time) (key string, marks []string) {
	if id == "" {
		return "", nil
	}
	h := sha256.Sum256([]byte(body))
	key = "answer-xmpp:" + bare + "\x00" + id + "\x00" + hex.EncodeToString(h[:12])
	w := now.UnixMilli() / alertWindow.Milliseconds()
	for _, w := range []int64{w, w + 1} {
		marks = append(marks, key+"\x00"+strconv.FormatInt(w, 10))
	}
	return key, marks
}

// xmppDeskKey is the key the desk knows the XMPP answer key (see
// xmppAnswerKey), delivered at now, by: key in the window of its first
// delivery, so that a resend within alertWindow is one answer to the desk
// across a window's end (the first may have failed after the desk acted),
// and the same text under the same id later on is another. A delivery
// whose previous window's first mark is found is in that window; any other
// is in its own, and first is the mark to record once the desk took it.
func (g *Gateway) xmppDeskKey(ctx context.Context, key string, now time.Time) (dk, first string, err error) {
	if key == "" {
		return "", "", nil
	}
	w := now.UnixMilli() / alertWindow.Milliseconds()
	in := func(w int64) string { return key + "\x00" + strconv.FormatInt(w, 10) }
	switch taken, err := g.o.Store.ToXMPP().Taken(ctx, g.name, in(w-1)+"\x00first"); {
	case err != nil:
		return "", "", err
	case taken:
		return in(w - 1), "", nil
	}
	return in(w), in(w) + "\x00first", nil
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
