package component

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
)

// Bounds on Later's steps in flight: a user's, and everyone's. A step
// past either is refused (errLaterBusy), so the read loop never waits for
// them and one user cannot hold back the others. Await's steps count
// toward both, but only laterAll holds them back (see Await); past
// awaitPerUser of a user's, her stanzas that would Await are refused
// (Crowded), so that she alone cannot fill laterAll and make the read
// loop wait for everyone.
const (
	laterPerUser = 32
	awaitPerUser = 256
	laterAll     = 1024
)

// errLaterBusy refuses a step past Later's bounds.
var errLaterBusy = core.ErrCrowded

// laterQueue is one user's steps in flight.
type laterQueue struct {
	n    int
	tail chan struct{} // closed when the last step's answers are handed over
}

// Later implements core.Core. A handler whose work commits to the store
// or goes to the network (a link code, an unlink, a sign-in step) runs it
// through Later, so the read loop never waits for it: f runs in a
// goroutine the gateway waits for, and what it writes is handed to the
// intake, which writes it after the answers to the stanzas read before it
// (see afterCommits). Answers are handed over in the order Later was
// called for each user (from's bare JID), so one user's slow step holds
// back only that user's. Past laterPerUser steps of from's, or laterAll
// in all, f does not run and Later returns errLaterBusy for the caller to
// answer with. f's ctx is readCtx, as a handler's on the read loop: the
// gateway's lifetime without its end (f bounds its own calls), since a
// stanza read at shutdown is handled as before; Run keeps the session open
// for the steps in flight then (settle). Before Run (a Gateway used
// without Run, as in tests), f runs at once on t.
func (g *Gateway) Later(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer)) error {
	return g.step(from, t, f, false)
}

// Await implements core.Core: Later, but never refused. Past laterPerUser
// steps of from's it goes on all the same: a user's steps stay in flight
// until her slowest earlier one's answers are handed over (up to a
// minute), and the read loop must not wait on one user. Callers refuse
// past awaitPerUser (Crowded) before calling it. Past laterAll in all, it
// waits for a step to end (the read loop waits: back-pressure).
func (g *Gateway) Await(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer)) {
	g.step(from, t, f, true)
}

// Crowded implements core.Core: from has awaitPerUser steps in flight.
func (g *Gateway) Crowded(from jid.JID) bool {
	g.laterMu.Lock()
	defer g.laterMu.Unlock()
	q := g.later[from.Bare().String()]
	return q != nil && q.n >= awaitPerUser
}

// step is Later, or Await if wait is set.
func (g *Gateway) step(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer), wait bool) error {
	if !g.in.running.Load() {
		f(g.readCtx(), t)
		return nil
	}
	key := from.Bare().String()
	g.laterMu.Lock()
	for {
		q := g.later[key]
		if (wait || q == nil || q.n < laterPerUser) && g.laterN < laterAll {
			break
		}
		if !wait {
			g.laterMu.Unlock()
			return errLaterBusy
		}
		g.laterFree.Wait()
	}
	q := g.later[key]
	if q == nil {
		q = &laterQueue{}
		g.later[key] = q
	}
	q.n++
	if g.laterN == 0 {
		g.laterIdle = nil // closed, if made: no longer idle
	}
	g.laterN++
	g.laterBegun++
	before, mine := q.tail, make(chan struct{})
	q.tail = mine
	g.laterMu.Unlock()
	g.Go(func(context.Context) {
		defer g.laterDone(key, q, mine)
		var out heldWriter
		f(g.readCtx(), &out)
		if before != nil {
			<-before
		}
		g.handOver(&out)
	})
	return nil
}

// handOver hands a step's answers to the intake, which writes them after
// the answers to the stanzas read before, and once that write has returned
// runs what is to follow them (core.AfterWritten). Once the intake has
// stopped (the session has ended for good: shutdown) they are counted and
// logged.
func (g *Gateway) handOver(out *heldWriter) {
	if len(out.held) == 0 && len(out.after) == 0 {
		return
	}
	g.handToIntakeThen(func(w router.Writer) {
		for _, v := range out.held {
			w.Encode(v)
		}
	}, func(w router.Writer) {
		for _, f := range out.after {
			f(w)
		}
	})
}

// handToIntake has the intake run write, with the session's writer, after
// the answers handed to it before. Once the intake has stopped (shutdown),
// what write encodes is counted and logged.
func (g *Gateway) handToIntake(write func(w router.Writer)) { g.handToIntakeThen(write, nil) }

// handToIntakeThen is handToIntake, with after, if set, run once what write
// encodes is written (see intakeItem.after).
func (g *Gateway) handToIntakeThen(write, after func(w router.Writer)) {
	var lost heldWriter // written to only if committed at once, on this goroutine
	g.submit(&intakeItem{t: &lost, then: func(_ context.Context, w router.Writer) { write(w) }, after: after})
	if len(lost.held) > 0 {
		g.unwritten(len(lost.held))
	}
}

// unwritten counts and logs n answers that are not written: the session
// they answer has ended for good (shutdown).
func (g *Gateway) unwritten(n int) {
	g.Stats.Unwritten.Add(int64(n))
	if g.o.Metrics != nil {
		g.o.Metrics.Unwritten.WithLabelValues(g.name).Add(float64(n))
	}
	g.log.Warn("answers not written: the XMPP session has ended", "stanzas", n)
}

// stepsAtShutdown bounds how long Run keeps the session open at shutdown,
// once the writer is done, for the steps in flight to finish and their
// answers to be written: a room's step waits for its turn for at most
// turnAtShutdown (two storeTimeouts, package muc) once shutdown begins,
// then bounds its store calls by storeTimeout.
const stepsAtShutdown = 3 * storeTimeout

// settle waits, at shutdown, until no step is in flight and the answers
// handed to the intake before are written, for at most stepsAtShutdown
// or until ctx ends. It returns at once when nothing is in flight and
// nothing waits in the intake.
func (g *Gateway) settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, stepsAtShutdown)
	defer cancel()
	for {
		select {
		case <-g.stepsIdle():
		case <-ctx.Done():
			g.log.Warn("closing the XMPP session with steps in flight: their answers will not be written", "steps", g.steps())
			return
		}
		n, begun := g.stepCounts()
		if n > 0 {
			continue // one began since
		}
		// Every step begun so far has handed its answers over: a marker
		// behind them is written after them.
		written := make(chan struct{})
		g.submit(&intakeItem{t: discard{}, written: written})
		select {
		case <-written:
		case <-ctx.Done():
			g.log.Warn("closing the XMPP session with answers not yet written", "stanzas", g.in.pending.Load())
			return
		}
		if _, now := g.stepCounts(); now == begun {
			return
		}
		// A stanza read meanwhile began a step, which may be in flight,
		// or may have ended already with its answers behind the marker:
		// wait for it too.
	}
}

// stepsIdle returns a channel closed while no step is in flight.
func (g *Gateway) stepsIdle() <-chan struct{} {
	g.laterMu.Lock()
	defer g.laterMu.Unlock()
	if g.laterIdle == nil {
		g.laterIdle = make(chan struct{})
		if g.laterN == 0 {
			close(g.laterIdle)
		}
	}
	return g.laterIdle
}

// steps is how many steps are in flight.
func (g *Gateway) steps() int {
	n, _ := g.stepCounts()
	return n
}

// stepCounts is how many steps are in flight, and how many have begun.
func (g *Gateway) stepCounts() (inFlight int, begun uint64) {
	g.laterMu.Lock()
	defer g.laterMu.Unlock()
	return g.laterN, g.laterBegun
}

// laterDone ends a step of the user key, whose answers were handed over.
func (g *Gateway) laterDone(key string, q *laterQueue, mine chan struct{}) {
	close(mine)
	g.laterMu.Lock()
	defer g.laterMu.Unlock()
	q.n--
	g.laterN--
	if q.n == 0 {
		delete(g.later, key)
	}
	if g.laterN == 0 && g.laterIdle != nil {
		close(g.laterIdle)
	}
	g.laterFree.Broadcast()
}

// heldWriter is a step's writer: it keeps what is encoded to it, and
// what to run once that is written (core.Held).
type heldWriter struct {
	held  []any
	after []func(w router.Writer)
}

var _ core.Held = (*heldWriter)(nil)

// Encode keeps v.
func (w *heldWriter) Encode(v any) { w.held = append(w.held, v) }

// AfterWritten implements core.Held.
func (w *heldWriter) AfterWritten(f func(w router.Writer)) { w.after = append(w.after, f) }

// discard is the writer of what has no answers (settle's marker).
type discard struct{}

// Encode drops v.
func (discard) Encode(any) {}
