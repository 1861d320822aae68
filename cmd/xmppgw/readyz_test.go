package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/mapping"
)

// /readyz is false while the store cannot be written, and says "store
// unavailable" without the driver's error, which goes to the log.
func TestReadyzStore(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, s *mapping.Store, path string)
		code  int
		body  string
		log   string // in the log
	}{
		{"ok", func(*testing.T, *mapping.Store, string) {}, 200, "ready\n", ""},
		{"write lock held by another process", holdWriteLock, 503, "store unavailable\n", "no answer to a write"},
		{"closed", func(_ *testing.T, s *mapping.Store, _ string) { s.Close() }, 503, "store unavailable\n", "database is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gw.db")
			store, err := mapping.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() }) // after spoil's cleanup
			var logs bytes.Buffer
			var active atomic.Bool
			active.Store(true)
			h := readyHandler(&active, store, []componentLink(nil), slog.New(slog.NewTextHandler(&logs, nil)))
			tt.spoil(t, store, path)

			w := httptest.NewRecorder()
			h(w, httptest.NewRequest("GET", "/readyz", nil))
			if body, _ := io.ReadAll(w.Result().Body); w.Code != tt.code || string(body) != tt.body {
				t.Errorf("readyz: %d %q, want %d %q", w.Code, body, tt.code, tt.body)
			}
			if tt.log != "" && !strings.Contains(logs.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, logs.String())
			}
		})
	}
}

// fakeLink is a transport's component link for /readyz.
type fakeLink struct {
	name string
	up   bool
	err  error
}

func (l fakeLink) Name() string        { return l.name }
func (l fakeLink) Connected() bool     { return l.up }
func (l fakeLink) ConnectError() error { return l.err }

// /readyz names a component that is not connected, with why its last
// attempt to connect failed, if it did.
func TestReadyzComponentNotConnected(t *testing.T) {
	refused := errors.New("component: handshake as tg.example.test: not-authorized; likely causes: transports[1].secret is not the server's secret for tg.example.test")
	tests := []struct {
		links []fakeLink
		code  int
		body  string
	}{
		0: {[]fakeLink{{name: "sms", up: true}, {name: "telegram", up: true}}, 200, "ready\n"},
		1: {[]fakeLink{{name: "sms", up: true}, {name: "telegram"}}, 503, "transport telegram: component not connected\n"},
		2: {[]fakeLink{{name: "sms", up: true}, {name: "telegram", err: refused}}, 503, "transport telegram: component not connected: " + refused.Error() + "\n"},
	}
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var active atomic.Bool
	active.Store(true)
	for i, tt := range tests {
		h := readyHandler(&active, store, tt.links, slog.New(slog.DiscardHandler))
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest("GET", "/readyz", nil))
		if body, _ := io.ReadAll(w.Result().Body); w.Code != tt.code || string(body) != tt.body {
			t.Errorf("%d: readyz: %d %q, want %d %q", i, w.Code, body, tt.code, tt.body)
		}
	}
}

// holdWriteLock takes the SQLite store's write lock from another
// connection until the test ends.
func holdWriteLock(t *testing.T, _ *mapping.Store, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	})
}
