package pgtest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Bounds on the helpers for tests.
const (
	startTimeout    = 90 * time.Second
	databaseTimeout = 30 * time.Second
)

// StartT starts a server of t's own, stopped when t ends. It fails t if the
// server cannot start.
func StartT(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// shared is the test package's one server, started by the first Database.
var shared struct {
	mu  sync.Mutex
	srv *Server
	err error // a failed start, not tried again
}

// Shared returns the test package's shared server, starting it on first
// use. It fails t if the server cannot start. Main stops it.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared.srv, shared.err = Start(ctx, "")
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Database creates a new database on the shared server for t and returns
// its URL. It fails t if that cannot be done.
func Database(t testing.TB) string {
	t.Helper()
	srv := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), databaseTimeout)
	defer cancel()
	dsn, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Main runs m's tests, then stops the shared server if they started it. It
// returns m.Run's exit code, for TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.Stop()
		shared.srv = nil
	}
	return code
}
