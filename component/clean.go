package component

import (
	"context"
	"time"
)

// cleanKey is where a gateway notes, in its transport's state, whether it
// shut down cleanly: "1" after a clean shutdown, "0" while running.
const cleanKey = "core.clean_shutdown"

// noteStart reads how the last run ended and notes that this one runs. After
// an unclean end (SIGKILL, a crash, a grace period that ran out), every job
// queued before this start is marked in flight, so it is reconciled with the
// provider before it is sent: its send may have been under way.
func (g *Gateway) noteStart(ctx context.Context) error {
	kv := g.o.Store.KV(g.name)
	v, err := kv.Get(ctx, cleanKey)
	if err != nil {
		return err
	}
	if v == "0" { // "": never started, nothing was under way
		// Stored, so that the marks outlive this run even if it stops
		// before sending these jobs.
		n, err := g.o.Store.Jobs().MarkUnresolved(ctx, g.name, g.started)
		if err != nil {
			return err
		}
		g.log.Warn("the last run did not shut down cleanly; queued messages are checked with the provider before they are sent",
			"queued", n)
	}
	return kv.Set(ctx, cleanKey, "0")
}

// noteStop notes a clean shutdown, if every send finished.
func (g *Gateway) noteStop() {
	if g.unfinished.Load() {
		return
	}
	// After the gateway's lifetime ended: not cancelled with it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(g.baseCtx()), 5*time.Second)
	defer cancel()
	if err := g.o.Store.KV(g.name).Set(ctx, cleanKey, "1"); err != nil {
		g.log.Warn("cannot note the clean shutdown", "err", err)
	}
}
