package conn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"xmppgw/component/stanza"
	"xmppgw/internal/backoff"
	"xmppgw/mapping"
)

// Queue is the store's queue of stanzas for XMPP, of one transport.
type Queue interface {
	// After returns up to limit stanzas stored after the queue id after,
	// in id order.
	After(ctx context.Context, after int64, limit int) ([]mapping.Queued, error)
	// Written removes the stanzas up to the queue id upTo: the server has
	// routed them.
	Written(ctx context.Context, upTo int64) error
}

// Writer writes the stanzas of Queue to Conn's session in order, waiting
// while the component is disconnected. A batch leaves the store only once
// the server has routed it (see Barrier), so none is lost when the server or
// the connection goes away mid-batch. Batches are pipelined: the next is
// written while the server confirms the last, and one confirmation covers
// every batch written while the one before it was in flight. If the
// process dies between the server's answer and the commit, stanzas are
// written again after the restart, with the same ids.
type Writer struct {
	Conn  *Conn
	Queue Queue
	// Wake receives when new stanzas were stored; Poll is how often Queue
	// is read without a wake-up, for what another process stored.
	Wake <-chan struct{}
	Poll time.Duration
	Log  *slog.Logger
	// Persist runs a store write, retrying it until it succeeds or ctx
	// ends (the core's retrying store write).
	Persist func(ctx context.Context, f func(context.Context) error)
	// OnWritten, if set, is called with each batch once it is written,
	// before the server confirms it (for the latency metric).
	OnWritten func(batch []mapping.Queued)
}

// Run writes until ctx is done; the confirmations in flight finish first.
func (wr *Writer) Run(ctx context.Context) {
	w := &writer{Writer: wr, waits: make(chan *barrierWait, maxInflightBatches), broken: make(chan struct{}, 1)}
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
				backoff.Sleep(ctx, 200*time.Millisecond)
			}
			continue
		default:
		}
		batch, err := wr.Queue.After(ctx, cursor, 256)
		if err != nil {
			if ctx.Err() == nil {
				wr.Log.Error("reading the XMPP queue failed", "err", err)
				backoff.Sleep(ctx, time.Second)
			}
			continue
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-wr.Wake:
			case <-time.After(wr.Poll): // what another process stored
			case <-w.broken:
				w.signalBroken() // handled at the top of the loop
			}
			continue
		}
		s, err := wr.Conn.Session(ctx)
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
				wr.Log.Warn("writing to the server failed; will resend after reconnect", "err", err)
			}
			w.signalBroken()
			continue
		}
		if wr.OnWritten != nil {
			wr.OnWritten(batch)
		}
		cursor = batch[len(batch)-1].ID
		w.waits <- &barrierWait{last: cursor, sess: s} // blocks while maxInflightBatches wait for the server
	}
}

// maxInflightBatches bounds the batches written and waiting for a
// confirmation to start; the ones a confirmation in flight covers are not
// counted, so at most twice as many are unconfirmed.
const maxInflightBatches = 4

// writer is the state Run shares with its confirmations.
type writer struct {
	*Writer
	waits         chan *barrierWait            // in the order the batches were written
	broken        chan struct{}                // a batch went unconfirmed
	confirmedUpTo atomic.Int64                 // the last queue id removed from the store
	session       atomic.Pointer[xmpp.Session] // the session being written to
}

// barrierWait is one written batch waiting for the server.
type barrierWait struct {
	last int64
	sess *xmpp.Session
}

func (w *writer) signalBroken() {
	select {
	case w.broken <- struct{}{}:
	default:
	}
}

// confirm removes batches from the store as the server confirms them, in
// order. One barrier at a time is in flight, and it covers every batch
// written to its session before it, so a busy writer's batches share one
// (a ping and its answer through the server, and a store write). A later
// confirmation also covers an earlier batch whose ping timed out.
func (w *writer) confirm(ctx context.Context) {
	var next *barrierWait
	for {
		bw := next
		next = nil
		if bw == nil {
			var ok bool
			if bw, ok = <-w.waits; !ok {
				return
			}
		}
		bw, next = coalesce(bw, w.waits)
		// A batch is confirmed even if shutdown begins meanwhile.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), BarrierTimeout)
		err := Barrier(bctx, bw.sess, w.Conn.Domain)
		cancel()
		if err != nil {
			// Only the current session's failures matter: the writer has
			// already started over for a new one.
			if bw.sess == w.session.Load() {
				if ctx.Err() == nil {
					w.Log.Warn("the server did not confirm a batch; will resend", "err", err)
				}
				w.signalBroken()
			}
			continue
		}
		if bw.last <= w.confirmedUpTo.Load() {
			continue
		}
		w.Persist(ctx, func(c context.Context) error { return w.Queue.Written(c, bw.last) })
		w.confirmedUpTo.Store(bw.last)
	}
}

// coalesce returns the last of the batches queued in waits behind first on
// its session, which a barrier covers with first, and the next batch if it
// is another session's.
func coalesce(first *barrierWait, waits <-chan *barrierWait) (last, next *barrierWait) {
	last = first
	for {
		select {
		case bw, ok := <-waits:
			if !ok {
				return last, nil
			}
			if bw.sess != last.sess {
				return last, bw
			}
			last = bw
		default:
			return last, nil
		}
	}
}

// writeBatch writes stanzas to the session with one flush.
func writeBatch(s *xmpp.Session, batch []mapping.Queued) error {
	w := s.TokenWriter()
	defer w.Close()
	for _, q := range batch {
		if _, err := xmlstream.Copy(w, stanza.NewRawReader(q.Stanza)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// BarrierTimeout bounds the wait for the server to route a batch.
const BarrierTimeout = 30 * time.Second

// Barrier returns once the server has processed everything written to s
// before it: it sends a ping from the component's domain to itself, which
// the server routes back only after the stanzas ahead of it on the stream.
// XEP-0114 has no acknowledgements of its own. The ping's id is random, and
// only an answer from domain counts: a user who could guess the id and
// answer first would otherwise have a batch removed from the store before
// the server routed it.
func Barrier(ctx context.Context, s *xmpp.Session, domain jid.JID) error {
	ctx, cancel := context.WithTimeout(ctx, BarrierTimeout)
	defer cancel()
	d := domain.String()
	id := barrierID()
	r, err := s.SendIQ(ctx, stanza.NewRawReader(stanza.Render(stanza.IQ{Type: "get", ID: id, From: d, To: d, Payload: pingQuery{}})))
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
