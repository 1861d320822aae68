package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 128

// write is one caller's transaction body, waiting for its commit.
type write struct {
	ctx  context.Context
	f    func(*sqlTx) error
	done chan error
	// rerun says that f sets everything it reports each time it runs, so
	// it may run again after being rolled back (see txRerun).
	rerun bool
	// patient says that no request waits on this commit (see txPatient):
	// its group may wait for company.
	patient bool
	// unlocked says that f needs no other process's writes kept out (see
	// txUnlocked): a group of such writes alone does not take the
	// dialect's write lock.
	unlocked bool
}

// tx runs f in a transaction and returns once it is committed (nil) or
// not (an error wrapping ErrUnavailable). Writes from concurrent callers are
// committed together (group commit): one commit, one WAL write, for many.
// Each runs in its own savepoint, so one failing rolls back only itself.
func (s *Store) tx(ctx context.Context, f func(*sqlTx) error) error {
	return s.submit(ctx, f, false, false)
}

// txRefusable is tx for a write that may be refused: f refuses by
// returning refuse(e), e one of the package's Err values, having written
// nothing. txRefusable returns the refusal as it is, and a failure wrapped
// in ErrUnavailable.
func (s *Store) txRefusable(ctx context.Context, f func(tx *sqlTx, refuse func(error) error) error) error {
	var refused error
	err := s.tx(ctx, func(tx *sqlTx) error {
		refused = nil
		return f(tx, func(e error) error { refused = e; return nil })
	})
	if err != nil {
		return err
	}
	return refused
}

// txRerun is tx for a write on the hot path whose f sets everything it
// reports each time it runs (it may run twice). The committer runs all such
// writes of a group under one savepoint instead of one each (a savepoint
// costs two statements and journals every page it touches); if one of them
// fails, that savepoint is rolled back and each runs again alone, in its
// own, after the group's commit.
func (s *Store) txRerun(ctx context.Context, f func(*sqlTx) error) error {
	return s.submit(ctx, f, true, false)
}

// txPatient is txRerun for a write whose caller is not answering a request
// meanwhile (the intake's jobs, a send's record, the writer's deletes):
// when the committer is busy, its group may wait up to lingerMax for more
// writes, so that many share a commit (see linger).
func (s *Store) txPatient(ctx context.Context, f func(*sqlTx) error) error {
	return s.submit(ctx, f, true, true)
}

// txUnlocked is tx for a write that needs no other process's writes kept
// out while it runs (dialect.lockWrites): it inserts into no table read by
// id (outbox, to_xmpp), and what it writes does not depend on what it
// reads. A shell command's bulk write (an import) is then no wait for the
// gateway's writes.
func (s *Store) txUnlocked(ctx context.Context, f func(*sqlTx) error) error {
	return s.send(&write{ctx: ctx, f: f, done: make(chan error, 1), unlocked: true})
}

func (s *Store) submit(ctx context.Context, f func(*sqlTx) error, rerun, patient bool) error {
	return s.send(&write{ctx: ctx, f: f, done: make(chan error, 1), rerun: rerun, patient: patient})
}

// send hands w to the committer and returns its outcome.
func (s *Store) send(w *write) error {
	ctx := w.ctx
	select {
	case s.writes <- w:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	case <-s.closed:
		return fmt.Errorf("%w: store closed", ErrUnavailable)
	}
	// Wait for the outcome even if ctx ends: the write may be committed.
	return <-w.done
}

// committer runs queued writes in groups until the store is closed.
func (s *Store) committer() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	last := 0 // the last group's size
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
		if last > 1 { // busy: the last group had company
			group = s.linger(group, timer)
		}
		last = len(group)
		s.commit(group)
		s.ckpt.committed()
		s.finishCheckpoint()
	}
}

// Lingering: while writes keep coming, a group of patient writes waits for
// more, up to lingerGroup writes, lingerGap after the last one came, and
// lingerMax in all. Measured in xmppgw-bench (docs/performance.md): the
// gateway's CPU a message out fell by a tenth or more, because a commit's
// fixed pages are written once for many messages.
const (
	lingerGroup = 64
	lingerGap   = 150 * time.Microsecond
	lingerMax   = time.Millisecond
)

// linger returns group with the writes that came while it waited for
// company: only while every write in it is patient, and never past an
// impatient one, which is committed at once with the rest.
func (s *Store) linger(group []*write, timer *time.Timer) []*write {
	for _, w := range group {
		if !w.patient {
			return group
		}
	}
	deadline := time.Now().Add(lingerMax)
	timer.Reset(lingerGap)
	defer timer.Stop()
	for len(group) < lingerGroup {
		select {
		case w := <-s.writes:
			group = append(group, w)
			if !w.patient {
				return group
			}
			d := time.Until(deadline)
			if d <= 0 {
				return group
			}
			timer.Reset(min(d, lingerGap))
		case <-timer.C:
			return group
		case <-s.closed:
			return group
		}
	}
	return group
}

// commit runs group in one transaction, its rerun writes as one (see
// txRerun).
func (s *Store) commit(group []*write) {
	group, merged := mergeReruns(group)
	s.commitGroup(group)
	if merged != nil {
		merged.finish(s)
	}
}

// merged is the rerun writes of a group, run as one write.
type merged struct {
	w       *write   // the one write, in the group
	members []*write // in order
	skipped []error  // per member: its context's error if it did not run
	failed  bool     // a member's f failed: the rest were rolled back too
}

// mergeReruns returns group with its rerun writes (if more than one)
// replaced by one write at the place of the first.
func mergeReruns(group []*write) ([]*write, *merged) {
	n := 0
	for _, w := range group {
		if w.rerun {
			n++
		}
	}
	if n < 2 {
		return group, nil
	}
	m := &merged{}
	m.w = &write{ctx: context.Background(), done: make(chan error, 1), f: func(tx *sqlTx) error {
		m.skipped = make([]error, len(m.members))
		for i, w := range m.members {
			if err := w.ctx.Err(); err != nil {
				m.skipped[i] = err // never ran: nothing to undo
				continue
			}
			if err := w.f(tx); err != nil {
				m.failed = true
				return err
			}
		}
		return nil
	}}
	out := make([]*write, 0, len(group)-n+1)
	for _, w := range group {
		if !w.rerun {
			out = append(out, w)
			continue
		}
		if m.members == nil {
			out = append(out, m.w)
		}
		m.members = append(m.members, w)
	}
	return out, m
}

// finish reports the merged write's outcome to each member, or, if a
// member failed, runs each again alone.
func (m *merged) finish(s *Store) {
	err := <-m.w.done
	if m.failed {
		for _, w := range m.members {
			w.rerun = false
		}
		s.commitGroup(m.members)
		return
	}
	for i, w := range m.members {
		switch {
		case err != nil:
			w.done <- err
		case m.skipped[i] != nil:
			w.done <- fmt.Errorf("%w: %w", ErrUnavailable, m.skipped[i])
		default:
			w.done <- nil
		}
	}
}

// commitGroup runs group in one transaction.
func (s *Store) commitGroup(group []*write) {
	ctx := context.Background()
	if s.d.commitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.d.commitTimeout)
		defer cancel()
	}
	fail := func(err error) {
		for _, w := range group {
			w.done <- unavailable(err)
		}
	}
	lock := false
	for _, w := range group {
		lock = lock || !w.unlocked
	}
	t, err := s.begin(ctx, lock)
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
			err = unavailable(err)
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
			w.done <- fmt.Errorf("%w: %w", ErrUnavailable, results[i])
		case commitErr != nil:
			w.done <- fmt.Errorf("%w: %w", ErrUnavailable, commitErr)
		default:
			w.done <- nil
		}
	}
}

// beginTries bounds the connections begin tries: a server restart leaves
// dead ones in the pool, each failing once when next used.
const beginTries = 3

// begin starts a write transaction (taking the dialect's write lock if
// lock). It tries again on another connection if that fails, which is
// safe: nothing has been written yet.
func (s *Store) begin(ctx context.Context, lock bool) (*sqlTx, error) {
	var err error
	for range beginTries {
		var tx *sql.Tx
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			continue
		}
		t := &sqlTx{tx: tx, s: s, ctx: ctx}
		if lock && s.d.lockWrites != "" {
			if _, err = t.ExecContext(ctx, s.d.lockWrites, s.locks.write); err != nil {
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
