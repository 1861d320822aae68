//go:build integration

package mapping

import (
	"context"
	"database/sql"
	"net/url"
	"sync"
	"testing"
	"time"
)

// holdWrite opens a write transaction of s (which holds s's write lock)
// and keeps it open, exempt from txIdle, until stop is called; wrote has
// its outcome.
func holdWrite(t *testing.T, ctx context.Context, s *Store) (wrote <-chan error, stop func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	out := make(chan error, 1)
	go func() {
		out <- s.tx(ctx, func(tx *sqlTx) error {
			err := exemptFromTxIdle(ctx, tx.tx)
			close(held)
			if err != nil {
				return err
			}
			<-done
			return nil
		})
	}()
	<-held
	return out, sync.OnceFunc(func() { close(done) })
}

// exemptFromTxIdle lifts txIdle off tx, which a test holds open on
// purpose: the server would otherwise end its session, failing the test,
// on a machine stalled for txIdle.
func exemptFromTxIdle(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SET LOCAL idle_in_transaction_session_timeout = 0`)
	return err
}

// advisoryLocks counts the advisory locks on key in this database, those
// granted or those waited for.
func advisoryLocks(t *testing.T, ctx context.Context, q querier, key int64, granted bool) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND (classid::bigint << 32 | objid::bigint) = $1`, key, granted).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitForLockWaiter returns once a session waits for the advisory lock
// key. It fails t if finished, the outcome of what should wait, comes
// first: the lock did not hold it back.
func waitForLockWaiter(t *testing.T, ctx context.Context, q querier, key int64, finished <-chan error) {
	t.Helper()
	for advisoryLocks(t, ctx, q, key, false) == 0 {
		select {
		case err := <-finished:
			t.Fatalf("done (err %v) without waiting for the lock %#x", err, key)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// adminDB is a database/sql handle on dsn outside any store, closed at the
// end of t.
func adminDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// inSchema returns dsn with its sessions' search_path set to schema.
func inSchema(t *testing.T, dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
