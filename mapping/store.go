package mapping

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the embedded store's driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrUnavailable wraps every failure to read or write the store, so callers
// can refuse intake (503, a wait error) instead of losing messages.
var ErrUnavailable = errors.New("mapping: store unavailable")

// Store is the gateway's durable state. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	now   func() time.Time
	stmts stmtCache
	// earlyReports is 0 when the early_report table is surely empty; it is
	// raised before each insert and recounted when pruning.
	earlyReports atomic.Int64

	writes    chan *write // to the committer
	closed    chan struct{}
	closeOnce sync.Once
	stopped   chan struct{} // the committer is done
}

// OpenSQLite opens (creating if missing) the SQLite store at path and brings
// its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("mapping: create store directory: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)") // WAL+NORMAL: durable across process crashes
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("mapping: open %s: %w", path, err)
	}
	// Two connections: one for the committer, which is the only writer (so
	// there is no SQLITE_BUSY), one for reads and preparing statements.
	db.SetMaxOpenConns(2)
	s := &Store{db: db, now: time.Now, writes: make(chan *write), closed: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.countEarlyReports(ctx); err != nil {
		db.Close()
		return nil, err
	}
	go s.committer()
	return s, nil
}

// Close stops accepting writes and closes the store.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	<-s.stopped
	return s.db.Close()
}

// Ping reports whether the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("mapping: read schema version: %w", err)
	}
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, e := range names {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("mapping: migration %s has no number", e.Name())
		}
		if n <= version {
			continue
		}
		body, _ := migrations.ReadFile("migrations/" + e.Name())
		err = s.rawTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n))
			return err
		})
		if err != nil {
			return fmt.Errorf("mapping: migration %s: %w", e.Name(), err)
		}
	}
	return nil
}

// rawTx runs f in a transaction of its own, for migrations (which hold
// several statements each and cannot be prepared).
func (s *Store) rawTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// countEarlyReports recounts the early reports kept.
func (s *Store) countEarlyReports(ctx context.Context) error {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM early_report`).Scan(&n); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.earlyReports.Store(n)
	return nil
}

func (s *Store) millis() int64 { return s.now().UnixMilli() }
