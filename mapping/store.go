package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the embedded store's driver
)

// ErrUnavailable wraps every failure to read or write the store, so callers
// can refuse intake (503, a wait error) instead of losing messages.
var ErrUnavailable = errors.New("mapping: store unavailable")

// Store is the gateway's durable state. It is safe for concurrent use.
type Store struct {
	// OnLeadError, if set before Lead, is called with each store failure
	// met while Lead waits (the database cannot be reached).
	OnLeadError func(error)

	db    *sql.DB
	d     *dialect
	now   func() time.Time
	stmts stmtCache
	// earlyReports is 0 when the early_report table is surely empty; it is
	// raised before each insert and recounted when pruning. Only trusted
	// when this process is the database's only writer (!d.shared).
	earlyReports atomic.Int64

	writes    chan *write // to the committer
	closed    chan struct{}
	closeOnce sync.Once
	closeMu   sync.Mutex     // orders closing and counting leaders
	stopped   chan struct{}  // the committer is done
	ckpt      *checkpointer  // SQLite's WAL checkpoints, or nil
	resend    *keyWindow     // the resend window in memory, or nil (in seen)
	events    *events        // the events taken, in memory, or nil (in seen)
	leaders   sync.WaitGroup // Leads under way or held, done before the db closes

	path       string     // SQLite: the database file
	fileLeadMu sync.Mutex // guards fileLead
	fileLead   *os.File   // SQLite: the locked lock file while leading (see Lead), or nil
	// fileLeadUnclaimed: fileLead was taken at open (OpenSQLiteLeading)
	// and no Lead has returned it yet.
	fileLeadUnclaimed bool

	socks    *sockets    // PostgreSQL: the pool's connections, for closeNow
	locks    lockKeys    // PostgreSQL: the advisory lock keys, fixed at open
	leadLost atomic.Bool // a Lead's session failed: Close is closeNow

	probeMu sync.Mutex
	probe   *writeProbe    // the last CheckWrite write, or nil
	probes  sync.WaitGroup // CheckWrite writes under way, done before the db closes
}

// Open opens the store of driver: DriverSQLite at path (dsn must be empty)
// or DriverPostgres at dsn (path must be empty), bringing its schema up to
// date. Errors never quote dsn, which may hold a password.
func Open(ctx context.Context, driver, path, dsn string) (*Store, error) {
	return open(ctx, driver, path, dsn, false, true)
}

// OpenExisting opens the store of driver as Open does, for the shell's
// commands, which may run beside a gateway of another release: it never
// creates nor migrates the schema. A store whose schema is not this
// code's, an empty one, and a database with tables but no xmppgw schema
// (another application's) are refused with a *SchemaError; a SQLite
// file before any of its settings is changed. With lead, a SQLite store's
// lock is taken first, as OpenSQLiteLeading does.
func OpenExisting(ctx context.Context, driver, path, dsn string, lead bool) (*Store, error) {
	return open(ctx, driver, path, dsn, lead, false)
}

// open is Open, taking a SQLite store's lock first if lead, and migrating
// or checking the schema.
func open(ctx context.Context, driver, path, dsn string, lead, migrate bool) (*Store, error) {
	switch driver {
	case DriverSQLite:
		if dsn != "" {
			return nil, errors.New("mapping: a dsn is for postgres; sqlite takes a path")
		}
		return openSQLite(ctx, path, lead, migrate)
	case DriverPostgres:
		if path != "" {
			return nil, errors.New("mapping: a path is for sqlite; postgres takes a dsn")
		}
		return openPostgres(ctx, dsn, migrate)
	}
	return nil, fmt.Errorf("mapping: unknown store driver %q (want %q or %q)", driver, DriverSQLite, DriverPostgres)
}

// OpenSQLite opens (creating if missing, readable by its owner only) the
// SQLite store at path and brings its schema up to date. An existing file
// keeps its mode.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	return openSQLite(ctx, path, false, true)
}

// OpenSQLiteLeading is OpenSQLite for the process that leads the store
// (`xmppgw run`; `xmppgw store drop-transport -yes` leads through
// OpenExisting): it first takes the store's lock as Lead does, failing at
// once with an error wrapping ErrLocked if another process holds it, so
// that a refused open has not touched the database, not even brought its
// schema up to date under the gateway running on it. The store holds the
// lock until Close; the first Lead on it returns that lock.
func OpenSQLiteLeading(ctx context.Context, path string) (*Store, error) {
	return openSQLite(ctx, path, true, true)
}

// openSQLite is OpenSQLite, taking the lock first if lead. Without
// migrate, the file must exist and have this code's schema.
func openSQLite(ctx context.Context, path string, lead, migrate bool) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" && migrate {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("mapping: create store directory: %w", err)
		}
	}
	var lock *os.File
	var err error
	if lead {
		if lock, err = lockStore(path); err != nil {
			return nil, err
		}
	}
	if !migrate {
		// Before the pragmas below: another application's file must
		// not even be switched to WAL.
		err = probeSQLite(ctx, path)
	}
	var s *Store
	if err == nil {
		s, err = openSQLiteFile(ctx, path, migrate)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	if lock != nil {
		s.fileLead, s.fileLeadUnclaimed = lock, true
	}
	return s, nil
}

// openSQLiteFile opens the SQLite store at path, whose directory exists,
// migrating it or checking its schema.
func openSQLiteFile(ctx context.Context, path string, migrate bool) (*Store, error) {
	// Create the file private (0600) before SQLite does (0644 less the
	// umask): its -wal and -shm files take the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mapping: create store: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: each commit is synced to disk before it is acknowledged, so a
	// power cut loses nothing acknowledged (NORMAL would only survive the
	// process's crash). Group commits share the sync.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "wal_autocheckpoint(0)") // see checkpointer
	q.Add("_pragma", "journal_size_limit(67108864)")
	// Write transactions take the write lock when they begin, waiting for
	// another process's (busy_timeout): a deferred one that read first
	// would fail at its first write, at once, if another process had
	// committed since (SQLITE_BUSY_SNAPSHOT).
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("mapping: open %s: %w", path, err)
	}
	// Three connections: one for the committer, which is the only writer
	// (so there is no SQLITE_BUSY), one for reads and preparing statements,
	// one for the checkpointer.
	db.SetMaxOpenConns(3)
	s, err := start(ctx, db, sqliteDialect, migrate)
	if err != nil {
		return nil, err
	}
	s.path = path
	go s.ckpt.run(s)
	return s, nil
}

// uriPath is path in a SQLite URI filename: "?" and "#" would start its
// query and fragment, "%" an escape, and a leading "//" an authority.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.Clean(path))
}

// start migrates db (or, without migrate, checks that its schema is this
// code's) and starts the committer of a new Store on it; it closes db if
// it fails.
func start(ctx context.Context, db *sql.DB, d *dialect, migrate bool) (*Store, error) {
	s := &Store{db: db, d: d, now: time.Now, writes: make(chan *write), closed: make(chan struct{}), stopped: make(chan struct{})}
	if d == sqliteDialect {
		s.ckpt = &checkpointer{wake: make(chan struct{}, 1), done: make(chan struct{})}
	}
	if d.shared {
		if err := s.fixLockKeys(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	check := s.migrate
	if !migrate {
		check = func(ctx context.Context) error { return checkSchema(ctx, d, db) }
	}
	if err := check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if d.shared {
		if err := s.checkLockKeys(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.countEarlyReports(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if !d.shared {
		if err := s.loadResendKeys(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.loadEvents(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	go s.committer()
	return s, nil
}

// Driver returns the store's driver: DriverSQLite or DriverPostgres.
func (s *Store) Driver() string { return s.d.name }

// Close stops accepting writes, ends any leadership held (see Lead) and
// closes the store. Once the store has lost its lead (Lead's lost closed
// because its session failed), the process must stop at once: Close then
// does not wait for a database that may not answer (see closeNow).
func (s *Store) Close() error {
	if s.leadLost.Load() {
		return s.closeNow()
	}
	return s.close()
}

func (s *Store) close() error {
	s.closeMu.Lock()
	s.closeOnce.Do(func() { close(s.closed) })
	s.closeMu.Unlock()
	<-s.stopped
	if s.ckpt != nil {
		<-s.ckpt.done
	}
	s.leaders.Wait()
	s.probes.Wait()
	err := s.db.Close()
	s.unlockFile() // after the last write
	return err
}

// closeNowGrace is how long closeNow lets a write in flight finish before
// it cuts the connections.
const closeNowGrace = time.Second

// closeNow is close without waiting for the database: on PostgreSQL, once
// the write in flight is done or closeNowGrace has passed, it cuts the
// store's connections, sending nothing more. A write still in flight fails
// with ErrUnavailable, unacknowledged, and the server ends the sessions,
// rolling back what they had not committed. On SQLite it is close.
func (s *Store) closeNow() error {
	if s.socks == nil {
		return s.close()
	}
	s.closeMu.Lock()
	s.closeOnce.Do(func() { close(s.closed) })
	s.closeMu.Unlock()
	grace := time.NewTimer(closeNowGrace)
	defer grace.Stop()
	select {
	case <-s.stopped:
	case <-grace.C:
	}
	s.socks.cutAll()
	return s.close()
}

// Ping reports whether the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// countEarlyReports recounts the early reports kept.
func (s *Store) countEarlyReports(ctx context.Context) error {
	var n int64
	if err := s.db.QueryRowContext(ctx, countEarlyReports).Scan(&n); err != nil {
		return unavailable(err)
	}
	s.earlyReports.Store(n)
	return nil
}

func (s *Store) millis() int64 { return s.now().UnixMilli() }
