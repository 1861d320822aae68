package component

import (
	"context"

	"xmppgw/component/router"
)

// Later implements core.Core. A handler whose work commits to the store
// (a link code, an unlink, an admin's link) runs it through Later, so the
// read loop never waits for a commit: f runs in a goroutine the gateway
// waits for, and what it writes is handed to the intake, which writes it
// after the answers to the stanzas read before it (see afterCommits).
// Before Run (a Gateway used without Run, as in tests), f runs at once on
// t.
func (g *Gateway) Later(t router.Writer, f func(ctx context.Context, w router.Writer)) {
	if !g.in.running.Load() {
		f(g.baseCtx(), t)
		return
	}
	// Answers are handed over in the order Later was called: each waits
	// for the one before.
	g.laterMu.Lock()
	before, mine := g.laterTail, make(chan struct{})
	g.laterTail = mine
	g.laterMu.Unlock()
	g.Go(func(ctx context.Context) {
		defer close(mine)
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
}

// heldWriter keeps what is encoded to it.
type heldWriter []any

// Encode keeps v.
func (w *heldWriter) Encode(v any) { *w = append(*w, v) }

// discard is the writer of an answer that comes after the session ended.
type discard struct{}

// Encode drops v.
func (discard) Encode(any) {}
