package component

import (
	"context"
	"time"
)

// writeLoop writes stored stanzas to the server in order, waiting while the
// component is disconnected. A stanza leaves the store only after it was
// written, so none is lost across reconnects or restarts (one may be written
// twice if the process dies between the two).
func (g *Gateway) writeLoop(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := g.o.Store.Outgoing(ctx, g.name, 256)
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
			}
			continue
		}
		s, err := g.o.Link.Session(ctx)
		if err != nil {
			return
		}
		var written int64
		for _, q := range batch {
			if err = s.Send(ctx, newRawReader(q.Stanza)); err != nil {
				break
			}
			written = q.ID
		}
		if written != 0 {
			g.persist(ctx, func(c context.Context) error { return g.o.Store.Written(c, g.name, written) })
		}
		if err != nil && ctx.Err() == nil {
			g.log.Warn("writing to the server failed; will resend after reconnect", "err", err)
			sleep(ctx, 200*time.Millisecond)
		}
	}
}
