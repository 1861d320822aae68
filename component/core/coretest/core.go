package coretest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// Core is a gateway for a transport on a domain, whose users are the JIDs
// of example.test (its one user domain) and whose admin is
// admin@example.test.
type Core struct {
	core.Core // nil: what Core does not implement panics

	// Ident is the gateway's identity (zero unless set).
	Ident transports.Identity
	// Names is the address book: contact's bare JID -> name.
	Names map[string]string
	// Inboxes are the team inboxes, by room.
	Inboxes map[string]transports.Inbox
	// Life is the gateway's lifetime, Context and Go's context (nil: one
	// that never ends).
	Life context.Context
	// Writes is Writing's answer.
	Writes bool

	tr     transports.Transport
	store  *mapping.Store
	domain jid.JID
	bg     sync.WaitGroup
	queued atomic.Int64
	laters atomic.Int64
}

// New returns the Core of a gateway for tr on domain, with store (which may
// be nil for a module that does not use it).
func New(domain string, tr transports.Transport, store *mapping.Store) *Core {
	return &Core{tr: tr, store: store, domain: jid.MustParse(domain)}
}

func (c *Core) Name() string                      { return c.tr.Name() }
func (c *Core) Domain() jid.JID                   { return c.domain }
func (c *Core) Identity() transports.Identity     { return c.Ident }
func (c *Core) Logger() *slog.Logger              { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (c *Core) Transport() transports.Transport   { return c.tr }
func (c *Core) Store() *mapping.Store             { return c.store }
func (c *Core) Allowed(bare string) bool          { return strings.HasSuffix(bare, "@example.test") }
func (c *Core) Admin(bare string) bool            { return bare == "admin@example.test" }
func (c *Core) UserDomain(domain string) bool     { return domain == "example.test" }
func (c *Core) ContactName(contact string) string { return c.Names[contact] }

// Mark is an HMAC of data under a fixed key.
func (c *Core) Mark(data string) string {
	m := hmac.New(sha256.New, []byte("coretest mark key"))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// Context is Life, or a context that never ends.
func (c *Core) Context() context.Context {
	if c.Life != nil {
		return c.Life
	}
	return context.Background()
}

func (c *Core) Inbox(room string) (transports.Inbox, bool) {
	b, ok := c.Inboxes[room]
	return b, ok
}

// Go runs f in a goroutine that Wait waits for.
func (c *Core) Go(f func(ctx context.Context)) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f(c.Context())
	}()
}

// Wait waits for the goroutines started with Go.
func (c *Core) Wait() { c.bg.Wait() }

// Persist runs f until it succeeds or ctx ends.
func (c *Core) Persist(ctx context.Context, f func(context.Context) error) {
	for f(ctx) != nil && ctx.Err() == nil {
	}
}

// Writing is Writes: whether what is queued is written to the session
// (default: not, as before the core runs).
func (c *Core) Writing() bool { return c.Writes }

// Queued counts the calls; QueuedCalls returns the count.
func (c *Core) Queued()            { c.queued.Add(1) }
func (c *Core) QueuedCalls() int64 { return c.queued.Load() }

// Later runs f at once with w: a test reads what the handler wrote.
// LaterCalls counts the calls: the handlers that would have left the read
// loop.
func (c *Core) Later(_ jid.JID, w router.Writer, f func(context.Context, router.Writer)) error {
	c.laters.Add(1)
	f(context.Background(), w)
	return nil
}

// Crowded is false: steps run at once here.
func (c *Core) Crowded(jid.JID) bool { return false }

// Await is Later, which never refuses here.
func (c *Core) Await(from jid.JID, w router.Writer, f func(context.Context, router.Writer)) {
	c.Later(from, w, f)
}

// LaterCalls returns how many times Later was called.
func (c *Core) LaterCalls() int64 { return c.laters.Load() }
