//go:build integration

package mapping

import (
	"context"
	"net/url"
	"testing"

	"xmppgw/internal/pgtest"
)

// Two deployments in schemas of their own in one database (docs/scaling.md:
// "its own database (or schema)") each lead their store, and one's write
// transaction does not hold up the other's writes; two stores in one schema
// still lead one at a time.
func TestDeploymentsInSchemasLockApart(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	admin := openTest(t, DriverPostgres, "", dsn)
	for _, q := range []string{`CREATE SCHEMA gw1`, `CREATE SCHEMA gw2`} {
		if _, err := admin.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	one := openTest(t, DriverPostgres, "", inSchema(t, dsn, "gw1"))
	two := openTest(t, DriverPostgres, "", inSchema(t, dsn, "gw2"))
	if err := one.KV("t").Set(ctx, "who", "one"); err != nil {
		t.Fatal(err)
	}
	if v, err := two.KV("t").Get(ctx, "who"); err != nil || v != "" {
		t.Fatalf("the schemas share their tables: two reads %q (%v)", v, err)
	}

	_, releaseOne, err := one.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseOne()
	// A second store in gw1 does not lead while one does.
	if _, err := openTest(t, DriverPostgres, "", inSchema(t, dsn, "gw1")).TryLead(ctx); err == nil {
		t.Error("a second store in gw1 leads beside the first")
	}
	// TryLead fails at once where another leads: two, in gw2, must lead.
	releaseTwo, err := two.TryLead(ctx)
	if err != nil {
		t.Fatalf("the deployment in gw2 cannot lead while the one in gw1 does: %v", err)
	}
	releaseTwo()

	// one's write transaction is open (it holds its write lock): two writes.
	held, done := make(chan struct{}), make(chan struct{})
	oneWrote := make(chan error, 1)
	go func() {
		oneWrote <- one.tx(ctx, func(*sqlTx) error { close(held); <-done; return nil })
	}()
	<-held
	_, err = two.ToXMPP().Accept(ctx, "sms", "SM1", []byte("<message/>"))
	close(done)
	if err != nil {
		t.Errorf("gw2's write while gw1's was open: %v", err)
	}
	if err := <-oneWrote; err != nil {
		t.Fatal(err)
	}
}

// In the schema public the lock keys are those of the versions before
// schemas had keys of their own: an instance of either kind, upgraded one
// at a time, sees the other's lead.
func TestPublicSchemaKeepsLockKeys(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, DriverPostgres, "", pgtest.Database(t))
	_, release, err := s.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND (classid::bigint << 32 | objid::bigint) = $1`, leaderLockKey).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d sessions hold the leader lock key %#x", n, leaderLockKey)
	}
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
