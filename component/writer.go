package component

import (
	"context"

	"xmppgw/component/conn"
	"xmppgw/mapping"
)

// writeLoop writes the stanzas stored for XMPP to the server until ctx is
// done (package conn: in order, each batch removed from the store only once
// the server has routed it). Writing reports whether it runs: it is
// cleared only once the writer has written its last.
func (g *Gateway) writeLoop(ctx context.Context) {
	g.writing.Store(true)
	defer g.writing.Store(false)
	w := &conn.Writer{
		Conn:    g.o.Conn,
		Queue:   xmppQueue{g.o.Store, g.name},
		Wake:    g.wakeIn,
		Poll:    storePoll,
		Log:     g.log,
		Persist: g.persist,
	}
	if g.o.Metrics != nil {
		w.OnWritten = func(batch []mapping.Queued) {
			for _, q := range batch {
				if start, ok := g.inClock.take(q.ID); ok {
					g.observe("in", start)
				}
			}
		}
	}
	w.Run(ctx)
}

// xmppQueue is the store's queue for XMPP of one transport (conn.Queue).
type xmppQueue struct {
	s    *mapping.Store
	name string
}

func (q xmppQueue) After(ctx context.Context, after int64, limit int) ([]mapping.Queued, error) {
	return q.s.ToXMPP().PendingAfter(ctx, q.name, after, limit)
}

func (q xmppQueue) Written(ctx context.Context, upTo int64) error {
	return q.s.ToXMPP().Written(ctx, q.name, upTo)
}
