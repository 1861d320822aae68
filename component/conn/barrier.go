package conn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"xmppgw/component/stanza"
)

// BarrierTimeout bounds the wait for the server to route a batch.
const BarrierTimeout = 30 * time.Second

// Barrier returns once the server has processed everything written to s
// before it: it sends a ping from the component's domain to itself, which
// the server routes back only after the stanzas ahead of it on the stream.
// XEP-0114 has no acknowledgements of its own. The ping's id is random, and
// only an answer from the domain counts: a user who could guess the id and
// answer first would otherwise have a batch removed from the store before
// the server routed it.
//
// It fails at once if s is not the session that is up, and as soon as s
// ends or ctx does. If the ping cannot be written, or the server does not
// answer it within BarrierTimeout, or answers it with an error, s ends
// (see end). The ping is written with the session's TokenWriter, and its
// answer taken by Handler: mellium's calls that take a ctx (SendIQ, Send)
// set a write deadline in the past on the shared connection if the ctx
// ends while, or just after, they write, which would fail another
// goroutine's write on the session. The ping's write itself is bounded by
// the connection's write timeout, not by ctx.
func (l *Conn) Barrier(ctx context.Context, s *xmpp.Session) error {
	ended := l.ended(s)
	select {
	case <-ended:
		return fmt.Errorf("waiting for the server to route a batch: %w", errSessionEnded)
	default:
	}
	d := l.Domain.String()
	id := barrierID()
	answer := make(chan barrierAnswer, 1)
	l.mu.Lock()
	if l.pings == nil {
		l.pings = map[string]chan barrierAnswer{}
	}
	l.pings[id] = answer
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.pings, id)
		l.mu.Unlock()
	}()
	ping := stanza.Render(stanza.IQ{Type: "get", ID: id, From: d, To: d, Payload: pingQuery{}})
	if err := l.Write(s, [][]byte{ping}); err != nil {
		return fmt.Errorf("waiting for the server to route a batch: %w", err)
	}
	t := time.NewTimer(BarrierTimeout)
	defer t.Stop()
	var err error
	select {
	case a := <-answer:
		// The session reads our own domain in from as "" (mellium blanks it).
		switch {
		case a.from != "" && a.from != d:
			err = fmt.Errorf("an answer to a batch's ping came from %q, not from %s", a.from, d)
		case a.typ != "result":
			err = fmt.Errorf("the server answered a batch with an iq of type %q", a.typ)
		default:
			return nil
		}
	case <-t.C:
		err = fmt.Errorf("the server did not answer a batch's ping within %v", BarrierTimeout)
	case <-ended:
		return fmt.Errorf("waiting for the server to route a batch: %w", errSessionEnded)
	case <-ctx.Done():
		return fmt.Errorf("waiting for the server to route a batch: %w", ctx.Err())
	}
	l.end(s, &endError{"unanswered", err})
	return err
}

// barrierAnswer is the answer to a barrier's ping: its type and from.
type barrierAnswer struct{ typ, from string }

// Handler returns h (nil: none) with the answers to Barrier's pings taken
// out, for Barrier: what a session of l's is served with. Run serves its
// sessions with it; so do tests that serve one over a pipe (see Attach).
func (l *Conn) Handler(h xmpp.Handler) xmpp.Handler { return barrierAnswers{l, h} }

// barrierAnswers is Handler's handler.
type barrierAnswers struct {
	l *Conn
	h xmpp.Handler
}

func (b barrierAnswers) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local == "iq" {
		var id, typ, from string
		for _, a := range start.Attr {
			switch {
			case a.Name.Space != "":
			case a.Name.Local == "id":
				id = a.Value
			case a.Name.Local == "type":
				typ = a.Value
			case a.Name.Local == "from":
				from = a.Value
			}
		}
		if (typ == "result" || typ == "error") && strings.HasPrefix(id, barrierPrefix) {
			b.l.mu.Lock()
			answer, ok := b.l.pings[id]
			delete(b.l.pings, id)
			b.l.mu.Unlock()
			if ok {
				answer <- barrierAnswer{typ, from} // the session reads the rest of it
				return nil
			}
		}
	}
	if b.h == nil {
		return nil
	}
	return b.h.HandleXMPP(t, start)
}

// barrierPrefix begins every barrier's ping id.
const barrierPrefix = "barrier-"

// barrierID returns a new ping id no one else can guess: 128 random bits.
func barrierID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return barrierPrefix + hex.EncodeToString(b)
}

type pingQuery struct {
	XMLName xml.Name `xml:"urn:xmpp:ping ping"`
}
