//go:build integration

package mapping

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"xmppgw/internal/pgtest"
)

// Two deployments in schemas of their own in one database (docs/scaling.md:
// "its own database (or schema)") each lead their store, and one's write
// transaction does not hold up the other's writes; two stores in one schema
// still lead one at a time.
func TestDeploymentsInSchemasLockApart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
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
	oneWrote, stop := holdWrite(t, ctx, one)
	defer stop()
	_, err = two.ToXMPP().Accept(ctx, "sms", "SM1", []byte("<message/>"))
	stop()
	if err != nil {
		t.Errorf("gw2's write while gw1's was open: %v", err)
	}
	if err := <-oneWrote; err != nil {
		t.Fatal(err)
	}
}

// In the schema public the lock keys, the leader's, the write
// transactions' and the migrations', are those of the versions before
// schemas had keys of their own: an instance of either kind, upgraded one
// at a time, sees the other's locks.
func TestPublicSchemaKeepsLockKeys(t *testing.T) {
	checkStoreLockKeys(t, pgtest.Database(t), "", lockKeys{schema: "public",
		migrate: migrateLockKey, leader: leaderLockKey, write: writeLockKey})
}

// A new store in a schema of its own (search_path=gw2,public, public kept
// for extensions) has its tables created in gw2, and all three of its
// locks are gw2's, the migrations' included, which it takes before its
// tables exist: two instances starting at once on the new schema migrate
// one at a time.
func TestNewStoreInSchemaTakesThatSchemasLocks(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	admin := adminDB(t, dsn)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA gw2`); err != nil {
		t.Fatal(err)
	}
	var want lockKeys
	if err := admin.QueryRowContext(ctx, `SELECT 'gw2', $1::bigint # h, $2::bigint # h, $3::bigint # h
		FROM hashtextextended('gw2', 0) AS h`, migrateLockKey, leaderLockKey, writeLockKey).
		Scan(&want.schema, &want.migrate, &want.leader, &want.write); err != nil {
		t.Fatal(err)
	}
	gw2 := inSchema(t, dsn, "gw2,public")
	checkStoreLockKeys(t, dsn, gw2, want)
	var where string
	if err := admin.QueryRowContext(ctx, `SELECT string_agg(DISTINCT table_schema, ',')
		FROM information_schema.tables WHERE table_schema IN ('gw2', 'public')`).Scan(&where); err != nil {
		t.Fatal(err)
	}
	if where != "gw2" {
		t.Errorf("the new store's tables are in %q, want gw2 alone", where)
	}
	openTest(t, DriverPostgres, "", gw2) // opens again, on its own tables
}

// One deployment in public with PostgreSQL's default search_path ("$user",
// public): a leads, b is its standby. Someone creates a schema named like
// the role (PostgreSQL's per-user schema pattern), which becomes both
// sessions' current_schema() while their tables stay public's. Their lock
// keys stay those of the schema holding the tables: b does not lead beside
// a, and a's write transaction holds b's writes back. A third instance
// with that DSN is refused, told to set search_path in the dsn; with it,
// it opens as one more standby.
func TestSchemaNamedLikeRoleLeavesLockKeysAlone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.Database(t)
	a := openTest(t, DriverPostgres, "", dsn)
	b := openTest(t, DriverPostgres, "", dsn)
	_, releaseA, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()

	var role string
	if err := a.db.QueryRowContext(ctx, `SELECT current_user`).Scan(&role); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.ExecContext(ctx, `CREATE SCHEMA `+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	var current string
	if err := b.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil || current != role {
		t.Fatalf("current_schema() is %q (%v), want the new schema %q: the test needs it", current, err, role)
	}

	if release, err := b.TryLead(ctx); !errors.Is(err, ErrLocked) {
		if err == nil {
			release()
		}
		t.Errorf("b, a's standby, TryLead: %v; want ErrLocked (split brain)", err)
	}

	aWrote, stop := holdWrite(t, ctx, a)
	defer stop()
	bWrote := make(chan error, 1)
	go func() {
		_, err := b.ToXMPP().Accept(ctx, "sms", "SM1", []byte("<message/>"))
		bWrote <- err
	}()
	waitForLockWaiter(t, ctx, adminDB(t, dsn), writeLockKey, bWrote)
	stop()
	if err := <-aWrote; err != nil {
		t.Fatal(err)
	}
	if err := <-bWrote; err != nil {
		t.Fatal(err)
	}

	c, err := Open(ctx, DriverPostgres, "", dsn)
	if err == nil {
		c.Close()
		t.Fatal("a store opened where the search_path's first schema is not its tables'")
	}
	for _, want := range []string{`"public"`, `"` + role + `"`, "search_path=public"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %s", err, want)
		}
	}
	c = openTest(t, DriverPostgres, "", inSchema(t, dsn, "public"))
	if release, err := c.TryLead(ctx); !errors.Is(err, ErrLocked) {
		if err == nil {
			release()
		}
		t.Errorf("c, with search_path=public, TryLead beside a: %v; want ErrLocked", err)
	}
}

// A second deployment given the schema gw2 with search_path=gw2,public
// while gw2 is empty would work on public's tables, the first
// deployment's, with gw2's lock keys: it is refused instead, by the
// gateway and by the shell's commands, before anything is created in gw2.
func TestSearchPathFindingAnotherSchemasTablesIsRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	one := openTest(t, DriverPostgres, "", dsn)
	if _, err := one.db.ExecContext(ctx, `CREATE SCHEMA gw2`); err != nil {
		t.Fatal(err)
	}
	_, release, err := one.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	mixed := inSchema(t, dsn, "gw2,public")
	for name, open := range map[string]func() (*Store, error){
		"Open":         func() (*Store, error) { return Open(ctx, DriverPostgres, "", mixed) },
		"OpenExisting": func() (*Store, error) { return OpenExisting(ctx, DriverPostgres, "", mixed, false) },
	} {
		two, err := open()
		if err == nil {
			two.Close()
			t.Errorf("%s opened gw2,public's store, whose tables are public's", name)
			continue
		}
		for _, want := range []string{`"public"`, `"gw2"`, "search_path="} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s's refusal %q does not say %s", name, err, want)
			}
		}
	}
	var n int
	if err := one.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gw2'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the refused open created %d tables in gw2", n)
	}
}

// checkStoreLockKeys opens a new store on the empty database dsn, through
// storeDSN ("": dsn), and checks that it takes want's migration lock
// before creating its tables, then want's leader and write locks.
func checkStoreLockKeys(t *testing.T, dsn, storeDSN string, want lockKeys) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if storeDSN == "" {
		storeDSN = dsn
	}
	admin := adminDB(t, dsn)
	held, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := held.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, want.migrate); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	var s *Store
	go func() {
		var err error
		s, err = Open(ctx, DriverPostgres, "", storeDSN)
		opened <- err
	}()
	waitForLockWaiter(t, ctx, admin, want.migrate, opened)
	if _, err := held.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, want.migrate); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.locks != want {
		t.Errorf("the store's lock keys are %+v, want %+v", s.locks, want)
	}

	_, release, err := s.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if n := advisoryLocks(t, ctx, admin, want.leader, true); n != 1 {
		t.Errorf("%d sessions hold the leader lock key %#x", n, want.leader)
	}
	wrote, stop := holdWrite(t, ctx, s)
	defer stop()
	if n := advisoryLocks(t, ctx, admin, want.write, true); n != 1 {
		t.Errorf("%d sessions hold the write lock key %#x while a write transaction is open", n, want.write)
	}
	stop()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}
