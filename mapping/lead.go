package mapping

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Timing of Lead on PostgreSQL.
const (
	leadPoll  = time.Second     // between tries for the lock, and between checks once held
	leadCheck = 2 * time.Second // bound on one try or check
	// leadIdle is how long the server keeps the leader's session once it
	// stops checking (its host is gone, not its socket closed): then the
	// server ends the session, freeing the lead. Without it, the server
	// would wait for TCP keepalive, by default for hours.
	leadIdle = 5 * time.Second
	// LeadSettle is how long a new leader should wait before acting: by
	// then a previous leader whose session failed has noticed (it checks
	// every leadPoll, each check bounded by leadCheck) and stopped.
	LeadSettle = leadPoll + leadCheck + time.Second
)

// Lead makes this process the store's leader, for active/standby: of the
// processes sharing a database, one at a time holds the lead. It blocks
// until the lead is held or ctx ends (returning ctx's error) or the store
// is closed.
//
// lost is closed if the lead is lost without release being called: the
// database session that holds it failed, or the store was closed. The
// caller must then stop acting as leader; after a failed session, Close
// waits for no answer from the database (the process is to stop at once). The lead may be held elsewhere a
// few seconds before lost is closed here (the session is checked every
// second): leadership is for avoiding double work, not a fence.
// release gives the lead up; it is idempotent and safe after lost.
//
// On PostgreSQL the lead is a session advisory lock on a connection of its
// own: it dies with the session, so a killed leader's lead is free as soon
// as the server sees its socket close, and a vanished leader's (its host
// down, no socket closed) once its session has been idle for leadIdle (5 s;
// PostgreSQL 14 or later). A leader stalled that long loses the lead too.
// On SQLite, whose database one gateway uses, Lead does not wait: it takes
// an exclusive flock(2) on the lock file beside the database (LockPath),
// or fails at once with an error wrapping ErrLocked if another process
// (another `xmppgw run`) holds it. The lock is held until release or
// Close, or the process ends; lost never closes. A store opened by
// OpenSQLiteLeading took the lock before opening the database: its first
// Lead returns that lock. Other stores opened on the file (the shell's
// commands) do not lead and may work beside it.
func (s *Store) Lead(ctx context.Context) (lost <-chan struct{}, release func(), err error) {
	if !s.d.shared {
		return s.leadFile()
	}
	if !s.addLeader() {
		return nil, nil, fmt.Errorf("%w: store closed", ErrUnavailable)
	}
	conn, err := s.acquireLead(ctx)
	if err != nil {
		s.leaders.Done()
		return nil, nil, err
	}
	s.leadLost.Store(false)
	l := &lead{s: s, conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l.lost, l.release, nil
}

// TryLead is Lead for a short task that no gateway may run beside (a
// command deleting rows a gateway uses): it does not wait. If another
// process leads the store it fails at once with an error wrapping
// ErrLocked. On SQLite it is Lead; on PostgreSQL it asks once for the
// leader lock, held until release or Close (its session is not watched:
// hold it no longer than the task).
func (s *Store) TryLead(ctx context.Context) (release func(), err error) {
	if !s.d.shared {
		_, release, err := s.leadFile()
		return release, err
	}
	if !s.addLeader() {
		return nil, fmt.Errorf("%w: store closed", ErrUnavailable)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.leaders.Done()
		return nil, unavailable(err)
	}
	held, err := tryLock(ctx, conn, s.locks.leader)
	if err != nil || !held {
		discard(conn) // frees the lock if it was granted with the answer lost
		s.leaders.Done()
		if err != nil {
			return nil, unavailable(err)
		}
		return nil, fmt.Errorf("%w: another xmppgw runs on this store (it holds the leader lock; a standby would take it as soon as it is free): stop them first", ErrLocked)
	}
	var once sync.Once
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer s.leaders.Done()
		defer close(done)
		select {
		case <-stop:
		case <-s.closed:
		}
		l := lead{s: s, conn: conn}
		l.unlock()
	}()
	return func() {
		once.Do(func() { close(stop) })
		<-done
	}, nil
}

// addLeader counts one more Lead for Close to wait for, unless the store
// is closed.
func (s *Store) addLeader() bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	select {
	case <-s.closed:
		return false
	default:
		s.leaders.Add(1)
		return true
	}
}

// acquireLead tries for the leader lock every leadPoll until it holds it,
// returning the connection that holds it.
func (s *Store) acquireLead(ctx context.Context) (*sql.Conn, error) {
	var conn *sql.Conn
	var lastErr error
	tick := time.NewTicker(leadPoll)
	defer tick.Stop()
	for {
		if conn == nil {
			c, err := s.db.Conn(ctx)
			if err != nil {
				s.leadWaitError(err)
				lastErr = err
			} else {
				conn = c
			}
		}
		if conn != nil {
			held, err := tryLock(ctx, conn, s.locks.leader)
			if held {
				expireWhenIdle(ctx, conn)
				return conn, nil
			}
			if err != nil {
				// The lock may have been granted with the answer lost:
				// end the session, which frees it, and start again.
				s.leadWaitError(err)
				lastErr = err
				discard(conn)
				conn = nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if conn != nil {
				discard(conn)
			}
			if lastErr != nil {
				return nil, fmt.Errorf("%w (last store error: %v)", ctx.Err(), lastErr)
			}
			return nil, ctx.Err()
		case <-s.closed:
			if conn != nil {
				discard(conn)
			}
			return nil, fmt.Errorf("%w: store closed", ErrUnavailable)
		}
	}
}

// tryLock asks once for the leader lock, key, on conn.
func tryLock(ctx context.Context, conn *sql.Conn, key int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, leadCheck)
	defer cancel()
	var held bool
	err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&held)
	return held, err
}

// expireWhenIdle has the server end conn's session once it has been idle
// for leadIdle. It needs PostgreSQL 14 (idle_session_timeout); on older
// servers a vanished leader's lead lasts until TCP keepalive ends it.
func expireWhenIdle(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(ctx, leadCheck)
	defer cancel()
	conn.ExecContext(ctx, fmt.Sprintf("SET idle_session_timeout = %d", leadIdle.Milliseconds()))
}

// lead is a leadership held on conn.
type lead struct {
	s    *Store
	conn *sql.Conn
	lost chan struct{} // closed if lost without release
	stop chan struct{} // closed by release
	once sync.Once
	done chan struct{} // watch has returned
}

// watch checks the session every leadPoll until it fails (closing lost),
// the store closes (closing lost) or release is called. It gives up the
// lock and the connection as it returns.
func (l *lead) watch() {
	defer l.s.leaders.Done()
	defer close(l.done)
	tick := time.NewTicker(leadPoll)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			l.unlock()
			return
		case <-l.s.closed:
			l.unlock()
			close(l.lost)
			return
		case <-tick.C:
			if err := l.check(); err != nil {
				l.s.leadLost.Store(true)
				discard(l.conn)
				close(l.lost)
				return
			}
		}
	}
}

// check asks the session holding the lock to answer.
func (l *lead) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), leadCheck)
	defer cancel()
	var one int
	return l.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// unlock gives the lock up and ends the session, which would free it anyway.
func (l *lead) unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), leadCheck)
	defer cancel()
	l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.s.locks.leader)
	discard(l.conn)
}

// release ends the leadership and waits until it is given up.
func (l *lead) release() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// discard closes conn's session instead of returning it to the pool, where
// a lock it might hold would live on.
func discard(conn *sql.Conn) {
	// Raw fails without calling f if database/sql closed conn already.
	_ = conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			ctx, cancel := context.WithTimeout(context.Background(), leadCheck)
			defer cancel()
			c.Conn().Close(ctx)
		}
		return driver.ErrBadConn // database/sql drops the connection
	})
	conn.Close()
}

// leadWaitError reports a store failure met while waiting for the lead
// through the store's OnLeadError hook, so that a standby whose database is
// unreachable does not look like a healthy standby.
func (s *Store) leadWaitError(err error) {
	if f := s.OnLeadError; f != nil {
		f(err)
	}
}

// ErrLocked is wrapped by Lead's error when another process leads the
// SQLite store.
var ErrLocked = errors.New("mapping: the store is locked")

// errLockHeld is lockFile's answer when another holds the lock.
var errLockHeld = errors.New("lock held elsewhere")

// LockPath is the lock file of the SQLite store at path: path + ".lock".
func LockPath(path string) string { return path + ".lock" }

// leadFile is Lead on SQLite: the lock on LockPath, held until release or
// Close; on a store opened by OpenSQLiteLeading, the lock it took.
func (s *Store) leadFile() (<-chan struct{}, func(), error) {
	s.fileLeadMu.Lock()
	defer s.fileLeadMu.Unlock()
	if s.fileLead != nil {
		if s.fileLeadUnclaimed {
			s.fileLeadUnclaimed = false
			return make(chan struct{}), s.unlockFile, nil
		}
		return nil, nil, fmt.Errorf("%w: %s: this store leads already", ErrLocked, LockPath(s.path))
	}
	select {
	case <-s.closed:
		return nil, nil, fmt.Errorf("%w: store closed", ErrUnavailable)
	default:
	}
	f, err := lockStore(s.path)
	if err != nil {
		return nil, nil, err
	}
	s.fileLead = f
	return make(chan struct{}), s.unlockFile, nil
}

// lockStore takes the lock of the SQLite store at path, without waiting,
// and returns the lock file that holds it.
func lockStore(path string) (*os.File, error) {
	lpath := LockPath(path)
	f, err := os.OpenFile(lpath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mapping: open the store's lock file: %w", err)
	}
	switch err := lockFile(f); {
	case errors.Is(err, errLockHeld):
		f.Close()
		return nil, fmt.Errorf("%w: %s is held: another xmppgw runs on the store %s (stop it first; only one gateway may use a SQLite store)",
			ErrLocked, lpath, path)
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("mapping: lock %s: %w", lpath, err)
	}
	return f, nil
}

// unlockFile gives up the SQLite store's lock, if held.
func (s *Store) unlockFile() {
	s.fileLeadMu.Lock()
	defer s.fileLeadMu.Unlock()
	if s.fileLead != nil {
		s.fileLead.Close()
		s.fileLead, s.fileLeadUnclaimed = nil, false
	}
}
