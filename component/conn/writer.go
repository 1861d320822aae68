package conn

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"mellium.im/xmpp"

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
// the server has routed it (see Conn.Barrier), so none is lost when the
// server or the connection goes away mid-batch: a write or a barrier that
// fails ends the session, and what it did not confirm is written again on
// the next as soon as it is up. Batches are pipelined: the next is
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
	w := &writer{Writer: wr, waits: make(chan *barrierWait, maxInflightBatches)}
	confirmed := make(chan struct{})
	go func() { defer close(confirmed); w.confirm(ctx) }()
	defer func() {
		close(w.waits) // let the confirmations in flight finish first
		<-confirmed
	}()
	var sess *xmpp.Session    // the session written to
	var ended <-chan struct{} // closed when sess ends
	var cursor int64          // the last queue id written to sess
	for ctx.Err() == nil {
		select {
		case <-ended:
			// What sess did not confirm goes again, on the next session,
			// as soon as it is up: a write to sess failed, its barrier
			// failed, or the server went away.
			sess, ended = nil, nil
			cursor = w.confirmedUpTo.Load()
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
			case <-ended: // handled at the top of the loop
			}
			continue
		}
		s, err := wr.Conn.Session(ctx)
		if err != nil {
			return
		}
		if s != sess {
			// A new session: what the old one did not confirm goes again.
			sess, ended = s, wr.Conn.ended(s)
			if c := w.confirmedUpTo.Load(); cursor > c {
				cursor = c
				continue
			}
		}
		if err := wr.Conn.Write(s, stanzasOf(batch)); err != nil {
			if ctx.Err() == nil {
				wr.Log.Warn("writing to the server failed; will resend after reconnect", "err", err)
			}
			// s has ended (the top of the loop starts over), unless it
			// was closing already (shutdown).
			select {
			case <-ended:
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
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
	waits         chan *barrierWait // in the order the batches were written
	confirmedUpTo atomic.Int64      // the last queue id removed from the store
}

// barrierWait is one written batch waiting for the server.
type barrierWait struct {
	last int64
	sess *xmpp.Session
}

// confirm removes batches from the store as the server confirms them, in
// order. One barrier at a time is in flight, and it covers every batch
// written to its session before it, so a busy writer's batches share one
// (a ping and its answer through the server, and a store write). A later
// confirmation also covers an earlier batch whose ping timed out. A
// barrier on a session that has ended fails at once, so the next session's
// do not wait behind it; a barrier that fails ends its session (see
// Conn.Barrier), and Run writes what is unconfirmed again on the next.
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
		if err := w.Conn.Barrier(context.WithoutCancel(ctx), bw.sess); err != nil {
			if ctx.Err() == nil && !errors.Is(err, errSessionEnded) {
				w.Log.Warn("the server did not confirm a batch; will resend after reconnect", "err", err)
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

// stanzasOf returns the batch's stanzas.
func stanzasOf(batch []mapping.Queued) [][]byte {
	out := make([][]byte, len(batch))
	for i, q := range batch {
		out[i] = q.Stanza
	}
	return out
}
