package mapping

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Open takes each driver's own location only, and its errors never quote a
// dsn's password.
func TestOpenArguments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "gw.db")
	const secret = "s3cret-pw"
	tests := []struct {
		name, driver, path, dsn string
		unavailable             bool // the error wraps ErrUnavailable
	}{
		{"unknown driver", "mysql", path, "", false},
		{"sqlite with a dsn", DriverSQLite, path, "postgres://u:" + secret + "@127.0.0.1/db", false},
		{"postgres with a path", DriverPostgres, path, "postgres://u:" + secret + "@127.0.0.1/db", false},
		{"postgres without a dsn", DriverPostgres, "", "", false},
		{"postgres dsn that does not parse", DriverPostgres, "", "postgres://u:" + secret + "@127.0.0.1:notaport/db", false},
		{"postgres key=value dsn that does not parse", DriverPostgres, "", "host=127.0.0.1 password=" + secret + " port=x", false},
		{"postgres not answering", DriverPostgres, "", "postgres://u:" + secret + "@127.0.0.1:1/db?connect_timeout=2", true},
	}
	for _, tt := range tests {
		s, err := Open(ctx, tt.driver, tt.path, tt.dsn)
		if err == nil {
			s.Close()
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the password: %v", tt.name, err)
		}
		if errors.Is(err, ErrUnavailable) != tt.unavailable {
			t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v", tt.name, err, !tt.unavailable)
		}
	}
}

// A new SQLite store and its WAL side files are readable by their owner
// only, whatever the directory's mode.
func TestSQLiteFileMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gw.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.KV("t").Set(ctx, "k", "v"); err != nil { // the WAL has a frame
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(name), got)
		}
	}
}

// SQLite syncs every commit to disk before it returns (synchronous=FULL):
// in WAL mode NORMAL leaves the last commits to be undone by a power cut,
// after they were acknowledged.
func TestSQLiteSyncsCommits(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 { // every connection of the pool, held at once
		c, err := s.db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var level int
		if err := c.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&level); err != nil {
			t.Fatal(err)
		}
		if level != 2 {
			t.Errorf("PRAGMA synchronous = %d, want 2 (FULL)", level)
		}
	}
}

// A write transaction that reads before it writes does not fail because
// another process (a shell command beside `run`) committed in between:
// SQLite write transactions take the write lock when they begin, so the
// other one waits for it (busy_timeout) instead. A deferred transaction
// would get SQLITE_BUSY at its first write, at once, with no wait.
func TestSQLiteWriteTransactionsBeginImmediate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "gw.db")
	a, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenSQLite(ctx, path) // the other process
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tx, err := a.begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM kv`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	other := make(chan error, 1)
	go func() { other <- b.KV("t").Set(ctx, "b", "v") }()
	select {
	case err := <-other: // it did not wait for a's transaction
		if err != nil {
			t.Fatalf("the other store's write: %v", err)
		}
	case <-time.After(300 * time.Millisecond): // it waits, as it should
	}
	if _, err := tx.ExecContext(ctx, upsertKV, "t", "a", "v", int64(0)); err != nil {
		tx.tx.Rollback()
		t.Fatalf("write after a read, with another store's commit between: %v", err)
	}
	if err := tx.tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatalf("the other store's write, after the first committed: %v", err)
	}
}

// store.path is a file name, whatever it holds: "?", "#" and "%" do not
// make SQLite open another file (a query, a fragment, an escape), nor
// does a leading "//" (an authority).
func TestSQLitePathIsAFileName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"gw#a.db", "gw?mode=memory", "gw%41.db", "gw%.db"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.KV("t").Set(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if want := []string{name}; !slices.Equal(got, want) { // the WAL is checkpointed and removed at close
			t.Errorf("%s: the directory holds %q, want %q", name, got, want)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v: want the database, mode 0600", name, fi, err)
		}
	}
	if got := uriPath("//tmp/gw.db"); got != "/tmp/gw.db" {
		t.Errorf(`uriPath("//tmp/gw.db") = %q`, got)
	}
}
