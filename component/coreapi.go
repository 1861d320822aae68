package component

import (
	"context"
	"log/slog"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// The Gateway is the Core of the modules built for it (package core).
var _ core.Core = (*Gateway)(nil)

// Domain implements core.Core.
func (g *Gateway) Domain() jid.JID { return g.domain }

// Identity implements core.Core.
func (g *Gateway) Identity() transports.Identity { return g.o.Identity }

// Logger implements core.Core.
func (g *Gateway) Logger() *slog.Logger { return g.log }

// Transport implements core.Core.
func (g *Gateway) Transport() transports.Transport { return g.o.Transport }

// Store implements core.Core.
func (g *Gateway) Store() *mapping.Store { return g.o.Store }

// Allowed implements core.Core.
func (g *Gateway) Allowed(bare string) bool { return g.allowed(bare) }

// Admin implements core.Core.
func (g *Gateway) Admin(bare string) bool { return g.o.Admin != nil && g.o.Admin(bare) }

// UserDomain implements core.Core.
func (g *Gateway) UserDomain(domain string) bool {
	return g.o.UserDomain != nil && g.o.UserDomain(domain)
}

// Inbox implements core.Core.
func (g *Gateway) Inbox(room string) (transports.Inbox, bool) {
	b, ok := g.inboxes[room]
	return b, ok
}

// ContactName implements core.Core.
func (g *Gateway) ContactName(contact string) string { return g.o.Names.Name(contact) }

// Context implements core.Core: the gateway's lifetime, from Run; before
// Run (in tests), a context that never ends.
func (g *Gateway) Context() context.Context { return g.baseCtx() }

func (g *Gateway) baseCtx() context.Context {
	if c := g.life.Load(); c != nil {
		return *c
	}
	return context.Background()
}

// readCtx is the context of a stanza's handling on the read loop: the
// gateway's lifetime without its end. A stanza read is handled whole,
// also while the gateway shuts down (the read loop runs until the writer
// is done): a store lookup on the ended lifetime would refuse what the
// server already counts as delivered. Handlers bound their own calls.
func (g *Gateway) readCtx() context.Context { return context.WithoutCancel(g.baseCtx()) }

// Go implements core.Core: Run waits for f before it returns.
func (g *Gateway) Go(f func(ctx context.Context)) {
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		f(g.baseCtx())
	}()
}

// Queue implements core.Core.
func (g *Gateway) Queue(ctx context.Context, v any) error { return g.queueStanzas(ctx, render(v)) }

// queueStanzas stores rendered stanzas for the server, durably and in
// order, and wakes the writer; none is nothing to do.
func (g *Gateway) queueStanzas(ctx context.Context, stanzas ...[]byte) error {
	if len(stanzas) == 0 {
		return nil
	}
	if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, "", stanzas...); err != nil {
		return err
	}
	wake(g.wakeIn)
	return nil
}

// Queued implements core.Core.
func (g *Gateway) Queued() { wake(g.wakeIn) }

// Writing implements core.Core: writeLoop runs.
func (g *Gateway) Writing() bool { return g.writing.Load() }

// Persist implements core.Core.
func (g *Gateway) Persist(ctx context.Context, f func(context.Context) error) { g.persist(ctx, f) }

// Barrier implements core.Core.
func (g *Gateway) Barrier(ctx context.Context) error {
	s, err := g.o.Conn.Session(ctx)
	if err != nil {
		return err
	}
	return g.o.Conn.Barrier(ctx, s)
}
