package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 128

// write is one caller's transaction body, waiting for its commit.
type write struct {
	ctx  context.Context
	f    func(*sqlTx) error
	done chan error
}

// tx runs f in a transaction and returns once it is committed (nil) or
// not (an error wrapping ErrUnavailable). Writes from concurrent callers are
// committed together (group commit): one commit, one WAL write, for many.
// Each runs in its own savepoint, so one failing rolls back only itself.
func (s *Store) tx(ctx context.Context, f func(*sqlTx) error) error {
	w := &write{ctx: ctx, f: f, done: make(chan error, 1)}
	select {
	case s.writes <- w:
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	case <-s.closed:
		return fmt.Errorf("%w: store closed", ErrUnavailable)
	}
	// Wait for the outcome even if ctx ends: the write may be committed.
	return <-w.done
}

// committer runs queued writes in groups until the store is closed.
func (s *Store) committer() {
	defer close(s.stopped)
	for {
		var first *write
		select {
		case first = <-s.writes:
		case <-s.closed:
			return
		}
		group := []*write{first}
	more:
		for len(group) < maxGroup {
			select {
			case w := <-s.writes:
				group = append(group, w)
			default:
				break more
			}
		}
		s.commit(group)
	}
}

// commit runs group in one transaction.
func (s *Store) commit(group []*write) {
	ctx := context.Background()
	fail := func(err error) {
		for _, w := range group {
			w.done <- fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		fail(err)
		return
	}
	t := &sqlTx{tx: tx, s: s}
	if len(group) == 1 {
		// Alone: no savepoint needed, the transaction is the write's own.
		w := group[0]
		err := w.f(t)
		if err != nil {
			tx.Rollback()
		} else {
			err = tx.Commit()
		}
		if err != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		w.done <- err
		return
	}
	results := make([]error, len(group))
	ok := 0
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := t.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			fail(err)
			return
		}
		if err := w.f(t); err != nil {
			results[i] = err
			if _, err := t.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				tx.Rollback()
				fail(err)
				return
			}
		} else {
			ok++
		}
		if _, err := t.ExecContext(ctx, "RELEASE w"); err != nil {
			tx.Rollback()
			fail(err)
			return
		}
	}
	var commitErr error
	if ok > 0 {
		commitErr = tx.Commit()
	} else {
		tx.Rollback()
	}
	for i, w := range group {
		switch {
		case results[i] != nil:
			w.done <- fmt.Errorf("%w: %v", ErrUnavailable, results[i])
		case commitErr != nil:
			w.done <- fmt.Errorf("%w: %v", ErrUnavailable, commitErr)
		default:
			w.done <- nil
		}
	}
}

// sqlTx is a transaction whose statements are prepared once and reused.
type sqlTx struct {
	tx *sql.Tx
	s  *Store
}

// Statements of an admitted write are not interrupted by its caller's
// context: SQLite would roll back the whole group's transaction.

func (t *sqlTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	st, err := t.s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	st, err := t.s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	st, err := t.s.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// stmtCache holds the store's prepared statements by query text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns q prepared (on any connection; database/sql prepares it
// again on another when needed and keeps both).
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[q]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[q] = st
	return st, nil
}

// query runs a read outside any transaction with a prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return s.db.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}
