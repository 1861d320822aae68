package component

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mellium.im/xmpp"
)

// A failed intake group's refusals (wait/resource-constraint) are the only
// word their senders get that the messages were not stored. When the link
// is down or breaks as they are written, they are kept here and written on
// the next session, by refusalLoop, for up to refusalsFor: the intake
// moves on at once, since its wait would hold up the read loop and with
// it the broken session's end.
const (
	refusalsFor = 2 * time.Minute
	maxRefusals = 4096 // stanzas kept; past it the oldest are dropped
)

// refusals holds batches of refusals waiting for a session.
type refusals struct {
	mu      sync.Mutex
	batches []refusalBatch
	n       int           // stanzas held
	wake    chan struct{} // signalled when a batch is added
	dropped int           // stanzas dropped, not yet logged
	seq     uint64        // the last batch's id
}

// refusalBatch is refusals in order, with the session a write of them
// failed on (nil if none was up), and when they are given up.
type refusalBatch struct {
	id      uint64
	stanzas [][]byte
	dead    *xmpp.Session
	until   time.Time
}

func newRefusals() *refusals { return &refusals{wake: make(chan struct{}, 1)} }

// add keeps stanzas, whose write to dead failed, for the next session.
func (r *refusals) add(stanzas [][]byte, dead *xmpp.Session) {
	r.mu.Lock()
	r.seq++
	r.batches = append(r.batches, refusalBatch{id: r.seq, stanzas: stanzas, dead: dead, until: time.Now().Add(refusalsFor)})
	r.n += len(stanzas)
	for r.n > maxRefusals && len(r.batches) > 1 {
		r.n -= len(r.batches[0].stanzas)
		r.dropped += len(r.batches[0].stanzas)
		r.batches = r.batches[1:]
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// first returns the oldest batch, and the count of stanzas dropped since
// the last call.
func (r *refusals) first() (b refusalBatch, ok bool, dropped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dropped, r.dropped = r.dropped, 0
	if len(r.batches) == 0 {
		return refusalBatch{}, false, dropped
	}
	return r.batches[0], true, dropped
}

// done removes batch id, if still held, once written or given up, or
// marks dead as where its write failed. (add may have dropped it while it
// was being written.)
func (r *refusals) done(id uint64, written bool, dead *xmpp.Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) == 0 || r.batches[0].id != id {
		return
	}
	if written || time.Now().After(r.batches[0].until) {
		r.n -= len(r.batches[0].stanzas)
		r.batches = r.batches[1:]
		return
	}
	r.batches[0].dead = dead
}

// held reports how many stanzas are held.
func (r *refusals) held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// refusalLoop writes the kept refusals, oldest first, each on a session
// other than the one its write failed on, until ctx is done.
func (g *Gateway) refusalLoop(ctx context.Context) {
	r := g.refused
	for {
		b, ok, dropped := r.first()
		if dropped > 0 {
			g.log.Warn("refusals dropped: more were waiting for the XMPP link than are kept", "stanzas", dropped)
		}
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		wctx, cancel := context.WithDeadline(ctx, b.until)
		s, err := g.writeSession(wctx, b.dead, b.stanzas)
		cancel()
		if ctx.Err() != nil {
			return // what is held is logged when Run ends
		}
		if err != nil && !time.Now().Before(b.until) {
			g.log.Log(ctx, slog.LevelWarn, "refusals not written: the XMPP link stayed down", "stanzas", len(b.stanzas), "err", err)
		}
		r.done(b.id, err == nil, s)
	}
}
