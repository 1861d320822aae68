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
	if s.d.commitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.d.commitTimeout)
		defer cancel()
	}
	fail := func(err error) {
		for _, w := range group {
			w.done <- fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	t, err := s.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	tx := t.tx
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

// beginTries bounds the connections begin tries: a server restart leaves
// dead ones in the pool, each failing once when next used.
const beginTries = 3

// begin starts a write transaction (taking the dialect's write lock). It
// tries again on another connection if that fails, which is safe: nothing
// has been written yet.
func (s *Store) begin(ctx context.Context) (*sqlTx, error) {
	var err error
	for range beginTries {
		var tx *sql.Tx
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			continue
		}
		t := &sqlTx{tx: tx, s: s, ctx: ctx}
		if s.d.lockWrites != "" {
			if _, err = t.ExecContext(ctx, s.d.lockWrites); err != nil {
				tx.Rollback()
				continue
			}
		}
		return t, nil
	}
	return nil, err
}

// sqlTx is a transaction whose statements are prepared once and reused.
// Queries are written with ? placeholders (see dialect.bind).
type sqlTx struct {
	tx  *sql.Tx
	s   *Store
	ctx context.Context // the commit's
}

// Statements of an admitted write are not interrupted by its caller's
// context, only by the commit's (a timeout on PostgreSQL): a cancelled
// statement rolls back the whole group's transaction. The ctx parameters
// are there to read like database/sql.

func (t *sqlTx) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.s.stmt(t.ctx, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, t.s.args(args)...)
}

func (t *sqlTx) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.s.stmt(t.ctx, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(t.ctx, st).QueryContext(t.ctx, t.s.args(args)...)
}

func (t *sqlTx) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	st, err := t.s.stmt(t.ctx, q)
	if err != nil {
		return t.tx.QueryRowContext(t.ctx, t.s.d.bind(q), t.s.args(args)...) // reports the same error
	}
	return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, t.s.args(args)...)
}

// insertID runs q, an INSERT into a table whose key is id, and returns the
// new row's id.
func (t *sqlTx) insertID(q string, args ...any) (int64, error) {
	if t.s.d.returning {
		var id int64
		err := t.QueryRowContext(t.ctx, q+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := t.ExecContext(t.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// stmtCache holds the store's prepared statements by query text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns q, written with ? placeholders, prepared for the driver (on
// any connection; database/sql prepares it again on another when needed
// and keeps both). The cache is keyed by q as written.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[q]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.d.bind(q))
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
	return st.QueryContext(ctx, s.args(args)...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return s.db.QueryRowContext(ctx, s.d.bind(q), s.args(args)...) // reports the same error
	}
	return st.QueryRowContext(ctx, s.args(args)...)
}

// args is args adapted for the dialect (see dialect.validText).
func (s *Store) args(args []any) []any {
	if s.d.validText {
		return validText(args)
	}
	return args
}
