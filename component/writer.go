package component

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"xmppgw/mapping"
)

// writeLoop writes stored stanzas to the server in order, waiting while the
// component is disconnected. A batch leaves the store only once the server
// has routed it (see barrier), so none is lost when the server or the
// connection goes away mid-batch. Batches are pipelined: the next is written
// while the server confirms the last. If the process dies between the
// server's answer and the commit, stanzas are written again after the
// restart, with the same ids.
func (g *Gateway) writeLoop(ctx context.Context) {
	w := &writer{g: g, waits: make(chan *barrierWait, maxInflightBatches), broken: make(chan struct{}, 1)}
	confirmed := make(chan struct{})
	go func() { defer close(confirmed); w.confirm(ctx) }()
	defer func() {
		close(w.waits) // let the confirmations in flight finish first
		<-confirmed
	}()
	var sess *xmpp.Session
	var cursor int64 // the last queue id written to sess
	for ctx.Err() == nil {
		select {
		case <-w.broken:
			// A batch went unconfirmed: write again all that is unconfirmed.
			cursor = w.confirmedUpTo.Load()
			if ctx.Err() == nil {
				sleep(ctx, 200*time.Millisecond)
			}
			continue
		default:
		}
		batch, err := g.o.Store.OutgoingAfter(ctx, g.name, cursor, 256)
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error("reading the XMPP queue failed", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-g.wakeIn:
			case <-time.After(storePoll): // what another process stored
			case <-w.broken:
				w.signalBroken() // handled at the top of the loop
			}
			continue
		}
		s, err := g.o.Conn.Session(ctx)
		if err != nil {
			return
		}
		if s != sess {
			// A new session: what the old one did not confirm goes again.
			sess = s
			w.session.Store(s)
			if c := w.confirmedUpTo.Load(); cursor > c {
				cursor = c
				continue
			}
		}
		if err := writeBatch(s, batch); err != nil {
			if ctx.Err() == nil {
				g.log.Warn("writing to the server failed; will resend after reconnect", "err", err)
			}
			w.signalBroken()
			continue
		}
		if g.o.Metrics != nil {
			for _, q := range batch {
				if start, ok := g.inClock.take(q.ID); ok {
					g.observe("in", start)
				}
			}
		}
		cursor = batch[len(batch)-1].ID
		bw := &barrierWait{last: cursor, sess: s, done: make(chan error, 1)}
		go func() {
			// A batch is confirmed even if shutdown begins meanwhile.
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), barrierTimeout)
			defer cancel()
			bw.done <- g.barrier(bctx, s)
		}()
		w.waits <- bw // blocks while maxInflightBatches wait for the server
	}
}

// maxInflightBatches bounds the batches written but not yet confirmed.
const maxInflightBatches = 4

// writer is the state writeLoop shares with its confirmations.
type writer struct {
	g             *Gateway
	waits         chan *barrierWait            // in the order the batches were written
	broken        chan struct{}                // a batch went unconfirmed
	confirmedUpTo atomic.Int64                 // the last queue id removed from the store
	session       atomic.Pointer[xmpp.Session] // the session being written to
}

// barrierWait is one written batch waiting for the server.
type barrierWait struct {
	last int64
	sess *xmpp.Session
	done chan error
}

func (w *writer) signalBroken() {
	select {
	case w.broken <- struct{}{}:
	default:
	}
}

// confirm removes batches from the store as the server confirms them, in
// order. A confirmation implies every batch before it on the stream, so a
// later success also covers an earlier batch whose ping timed out.
func (w *writer) confirm(ctx context.Context) {
	g := w.g
	for bw := range w.waits {
		if err := <-bw.done; err != nil {
			// Only the current session's failures matter: the writer has
			// already started over for a new one.
			if bw.sess == w.session.Load() {
				if ctx.Err() == nil {
					g.log.Warn("the server did not confirm a batch; will resend", "err", err)
				}
				w.signalBroken()
			}
			continue
		}
		if bw.last <= w.confirmedUpTo.Load() {
			continue
		}
		g.persist(ctx, func(c context.Context) error { return g.o.Store.Written(c, g.name, bw.last) })
		w.confirmedUpTo.Store(bw.last)
	}
}

// writeBatch writes stanzas to the session with one flush.
func writeBatch(s *xmpp.Session, batch []mapping.Queued) error {
	w := s.TokenWriter()
	defer w.Close()
	for _, q := range batch {
		if _, err := xmlstream.Copy(w, newRawReader(q.Stanza)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// barrierTimeout bounds the wait for the server to route a batch.
const barrierTimeout = 30 * time.Second

// barrier returns once the server has processed everything written before
// it: it sends a ping from the component to itself, which the server routes
// back only after the stanzas ahead of it on the stream. XEP-0114 has no
// acknowledgements of its own. The ping's id is random, and only an answer
// from the gateway's own domain counts: a user who could guess the id and
// answer first would otherwise have a batch removed from the store before
// the server routed it.
func (g *Gateway) barrier(ctx context.Context, s *xmpp.Session) error {
	ctx, cancel := context.WithTimeout(ctx, barrierTimeout)
	defer cancel()
	d := g.domain.String()
	id := barrierID()
	r, err := s.SendIQ(ctx, newRawReader(render(iq{Type: "get", ID: id, From: d, To: d, Payload: pingQuery{}})))
	if err != nil {
		return fmt.Errorf("waiting for the server to route a batch: %w", err)
	}
	defer r.Close()
	var res struct {
		Type string `xml:"type,attr"`
		From string `xml:"from,attr"`
	}
	if err := xml.NewTokenDecoder(r).Decode(&res); err != nil {
		return fmt.Errorf("the server's answer to a batch: %w", err)
	}
	// The session reads our own domain in from as "" (mellium blanks it).
	if res.From != "" && res.From != d {
		return fmt.Errorf("an answer to a batch's ping came from %q, not from %s", res.From, d)
	}
	if res.Type != "result" {
		return fmt.Errorf("the server answered a batch with an iq of type %q", res.Type)
	}
	return nil
}

// barrierID returns a new ping id no one else can guess: 128 random bits.
func barrierID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "barrier-" + hex.EncodeToString(b)
}

type pingQuery struct {
	XMLName xml.Name `xml:"urn:xmpp:ping ping"`
}
