package mapping

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"xmppgw/internal/pgtest"
)

// The PostgreSQL tests share one server, started by the first of them and
// stopped after the last (see internal/pgtest).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// opener opens the store of one subtest: each call opens the same
// database again (to test what survives a reopen), closed at the end.
type opener func(t *testing.T) *Store

// forEachDriver runs f once per driver, as subtests "sqlite" and
// "postgres", each with a new empty database.
func forEachDriver(t *testing.T, f func(t *testing.T, open opener)) {
	t.Run(DriverSQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "gw.db") // sub: Open makes the directory
		f(t, func(t *testing.T) *Store { return openTest(t, DriverSQLite, path, "") })
	})
	t.Run(DriverPostgres, func(t *testing.T) {
		dsn := pgtest.Database(t)
		f(t, func(t *testing.T) *Store { return openTest(t, DriverPostgres, "", dsn) })
	})
}

// openTest opens a store with Open, closed when t ends.
func openTest(t *testing.T, driver, path, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), driver, path, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if s.Driver() != driver {
		t.Errorf("Driver() = %q, want %q", s.Driver(), driver)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
