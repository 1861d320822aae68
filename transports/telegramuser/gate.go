package telegramuser

import (
	"context"
	"errors"
	"sync"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
)

// gate admits a client's API calls while its session runs, and on close
// cancels those in flight and waits for them: gotd's client must not be
// closed with a call in flight (its connection's close races with it).
type gate struct {
	mu     sync.Mutex
	closed bool
	calls  sync.WaitGroup
	ctx    context.Context // canceled by close
	cancel context.CancelFunc
}

func newGate() *gate {
	ctx, cancel := context.WithCancel(context.Background())
	return &gate{ctx: ctx, cancel: cancel}
}

// errClosing is a call made while the session stops.
var errClosing = errors.New("the Telegram session is stopping")

// Handle implements telegram.Middleware.
func (g *gate) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return errClosing
		}
		g.calls.Add(1)
		g.mu.Unlock()
		defer g.calls.Done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(g.ctx, cancel)
		defer stop()
		return next.Invoke(ctx, input, output)
	}
}

// close refuses new calls, cancels those in flight and waits for them.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.calls.Wait()
}

// client is one gotd client and its gate.
type client struct {
	*telegram.Client
	gate *gate
}

// api is the account's current client's API.
func (a *account) api() *tg.Client { return a.cl.Load().API() }

// auth is the account's current client's sign-in API.
func (a *account) auth() *auth.Client { return a.cl.Load().Auth() }
