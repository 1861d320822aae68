package component

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// Bounds on Later's steps in flight: a user's, and everyone's. A step
// past either is refused (errLaterBusy), so the read loop never waits for
// them and one user cannot hold back the others.
const (
	laterPerUser = 32
	laterAll     = 1024
)

// errLaterBusy refuses a step past Later's bounds.
var errLaterBusy = newError("wait", "resource-constraint", "too many of your requests are in progress; try again shortly")

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
// answer with. f's ctx is the gateway's lifetime: see core.Core.Later for
// what f must do once it ends. Before Run (a Gateway used without Run, as
// in tests), f runs at once on t.
func (g *Gateway) Later(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer)) error {
	return g.step(from, t, f, false)
}

// Await implements core.Core: Later, but past the bounds it waits for a
// step to end (the read loop waits: back-pressure) instead of refusing.
func (g *Gateway) Await(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer)) {
	g.step(from, t, f, true)
}

// step is Later, or Await if wait is set.
func (g *Gateway) step(from jid.JID, t router.Writer, f func(ctx context.Context, w router.Writer), wait bool) error {
	if !g.in.running.Load() {
		f(g.baseCtx(), t)
		return nil
	}
	key := from.Bare().String()
	g.laterMu.Lock()
	for {
		q := g.later[key]
		if (q == nil || q.n < laterPerUser) && g.laterN < laterAll {
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
	g.laterN++
	before, mine := q.tail, make(chan struct{})
	q.tail = mine
	g.laterMu.Unlock()
	g.Go(func(ctx context.Context) {
		defer g.laterDone(key, q, mine)
		var out heldWriter
		f(ctx, &out)
		if before != nil {
			<-before
		}
		if len(out) == 0 {
			return
		}
		g.submit(&intakeItem{t: discard{}, then: func(_ context.Context, w router.Writer) {
			for _, v := range out {
				w.Encode(v)
			}
		}})
	})
	return nil
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
	g.laterFree.Broadcast()
}

// heldWriter keeps what is encoded to it.
type heldWriter []any

// Encode keeps v.
func (w *heldWriter) Encode(v any) { *w = append(*w, v) }

// discard is the writer of an answer that comes after the session ended.
type discard struct{}

// Encode drops v.
func (discard) Encode(any) {}
