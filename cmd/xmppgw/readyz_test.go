package main

import (
	"bytes"
	"context"
	"database/sql"
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
			h := readyHandler(&active, store, nil, slog.New(slog.NewTextHandler(&logs, nil)))
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
