package tguserfake

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/updates"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// testTimeout bounds every test.
const testTimeout = 30 * time.Second

// logWriter sends the fake's log lines to t.Log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer starts a fake closed at the end of the test.
func startServer(t *testing.T) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := Start(ctx, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// testCtx is the context of one test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// pushed is one update a client got, with the updates object it came in.
type pushed struct {
	u     tg.UpdateClass
	batch *tg.Updates
}

// inbox collects the updates a client is pushed, one by one.
type inbox struct{ ch chan pushed }

func newInbox() *inbox { return &inbox{ch: make(chan pushed, 256)} }

func (b *inbox) Handle(ctx context.Context, u tg.UpdatesClass) error {
	batch, ok := u.(*tg.Updates)
	if !ok {
		return nil
	}
	for _, x := range batch.Updates {
		select {
		case b.ch <- pushed{u: x, batch: batch}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// next waits for a pushed update of type T, skipping others.
func next[T tg.UpdateClass](ctx context.Context, t *testing.T, b *inbox) (T, *tg.Updates) {
	t.Helper()
	for {
		select {
		case p := <-b.ch:
			if v, ok := p.u.(T); ok {
				return v, p.batch
			}
		case <-ctx.Done():
			var zero T
			t.Fatalf("no %T pushed: %v", zero, ctx.Err())
			return zero, nil
		}
	}
}

// quiet checks that nothing of type T is pushed for a while.
func quiet[T tg.UpdateClass](t *testing.T, b *inbox, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case p := <-b.ch:
			if _, ok := p.u.(T); ok {
				t.Fatalf("unexpected push: %#v", p.u)
			}
		case <-timer.C:
			return
		}
	}
}

// client is a running gotd client.
type client struct {
	*telegram.Client
	api *tg.Client
	ctx context.Context // valid while the client runs
	in  *inbox
}

// startClient runs a gotd client against s until stop (or the end of the
// test) and returns once it is connected.
func startClient(t *testing.T, s *Server, storage session.Storage) (c *client, stop func()) {
	t.Helper()
	in := newInbox()
	return startClientWith(t, s, storage, in, in)
}

// startClientWith is startClient with the client's update handler h, which
// passes updates on to in.
func startClientWith(t *testing.T, s *Server, storage session.Storage, h telegram.UpdateHandler, in *inbox) (c *client, stop func()) {
	t.Helper()
	tc := telegram.NewClient(17349, "fakehash", telegram.Options{
		DC:             s.DC(),
		DCList:         dcs.List{Options: []tg.DCOption{s.DCOption()}},
		PublicKeys:     []telegram.PublicKey{{RSA: s.PublicKey()}},
		SessionStorage: storage,
		UpdateHandler:  h,
		DialTimeout:    5 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	ready := make(chan context.Context, 1)
	done := make(chan error, 1)
	go func() {
		done <- tc.Run(ctx, func(ctx context.Context) error {
			ready <- ctx
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case rctx := <-ready:
		c = &client{Client: tc, api: tc.API(), ctx: rctx, in: in}
	case err := <-done:
		cancel()
		t.Fatalf("client stopped: %v", err)
	case <-time.After(testTimeout):
		cancel()
		t.Fatal("client did not connect")
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("client run: %v", err)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

// codeFrom reads the login code from the fake.
func codeFrom(s *Server, phone string) auth.CodeAuthenticator {
	return auth.CodeAuthenticatorFunc(func(context.Context, *tg.AuthSentCode) (string, error) {
		return s.LastCode(phone), nil
	})
}

// login logs c in as the user with phone (and password, if any).
func login(t *testing.T, s *Server, c *client, phone, password string) *tg.User {
	t.Helper()
	flow := auth.NewFlow(auth.Constant(phone, password, codeFrom(s, phone)), auth.SendCodeOptions{})
	if err := c.Auth().IfNecessary(c.ctx, flow); err != nil {
		t.Fatalf("login %s: %v", phone, err)
	}
	self, err := c.Self(c.ctx)
	if err != nil {
		t.Fatalf("self: %v", err)
	}
	return self
}

// loggedIn starts a client logged in as u.
func loggedIn(t *testing.T, s *Server, u User) *client {
	t.Helper()
	c, _ := startClient(t, s, &session.StorageMemory{})
	login(t, s, c, u.Phone, u.Password)
	return c
}

// wantRPCError checks err is the RPC error code/typ.
func wantRPCError(t *testing.T, err error, code int, typ string) {
	t.Helper()
	rpcErr, ok := tgerr.As(err)
	if !ok {
		t.Fatalf("want %d %s, got %v", code, typ, err)
	}
	if rpcErr.Code != code || rpcErr.Type != typ {
		t.Fatalf("want %d %s, got %d %s", code, typ, rpcErr.Code, rpcErr.Type)
	}
}

// Standard cast.
var (
	ann   = User{Phone: "+15550001111", FirstName: "Ann", LastName: "Lee", Username: "ann"}
	bob   = User{Phone: "+15550002222", FirstName: "Bob", Username: "bob"}
	carol = User{Phone: "+15550003333", FirstName: "Carol"}
)

// runManager runs gotd's updates manager m for the client's account until
// the test ends, and returns once it has started. The manager stops before
// the client: gotd's client races with calls still in flight when it
// closes.
func runManager(t *testing.T, cl *client, m *updates.Manager, self int64) {
	t.Helper()
	mctx, cancel := context.WithCancel(cl.ctx)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- m.Run(mctx, cl.api, self, updates.AuthOptions{OnStart: func(context.Context) { close(started) }})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("manager: %v", err)
	}
}
