//go:build integration

package mapping

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xmppgw/internal/pgtest"
)

// A shell command's import (xmppgw contacts import) beside a running
// gateway holds no lock the gateway's writes wait for, however long it
// takes: here it is held up half-way by a row another transaction holds,
// and meanwhile the gateway stores an SMS.
func TestImportKeepsGatewayWritesGoing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.Database(t)
	gw := openTest(t, DriverPostgres, "", dsn)
	shell := openTest(t, DriverPostgres, "", dsn)
	names := map[string]string{}
	for i := range 3 * importChunk {
		names[fmt.Sprintf("+1555%07d", i)] = fmt.Sprintf("Contact %d", i)
	}
	blocker, err := gw.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if err := exemptFromTxIdle(ctx, blocker); err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.ExecContext(ctx, `INSERT INTO contacts (key, name, updated) VALUES ($1, 'held', 0)`,
		fmt.Sprintf("+1555%07d", importChunk+10)); err != nil {
		t.Fatal(err)
	}
	imported := make(chan error, 1)
	go func() { imported <- shell.Contacts().Import(ctx, names) }()
	for waiting := false; !waiting; {
		if err := gw.db.QueryRowContext(ctx, `SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO contacts%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if !waiting {
			select {
			case err := <-imported:
				t.Fatalf("the import ended (%v) before waiting for the held row: the test needs it held up", err)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	if advisoryLocks(t, ctx, gw.db, gw.locks.write, true) != 0 {
		t.Fatalf("the import, held up half-way, holds the write lock: the gateway's writes wait for it")
	}
	if _, err := gw.ToXMPP().Accept(ctx, "sms", "SM1", []byte("<message/>")); err != nil {
		t.Errorf("the gateway's write while an import is under way: %v", err)
	}

	blocker.Rollback()
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	if got, err := gw.Contacts().Names(ctx); err != nil || len(got) != len(names) {
		t.Errorf("%d names imported (%v), want %d", len(got), err, len(names))
	}
}
