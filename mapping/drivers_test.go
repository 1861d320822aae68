package mapping

import (
	"context"
	"path/filepath"
	"testing"
)

// newPostgres gives each PostgreSQL subtest a new empty database on a real
// server; it is set with the integration build tag (drivers_postgres_test.go)
// and nil without, when the store's tests run on SQLite alone.
var newPostgres func(t *testing.T) string

// opener opens the store of one subtest: each call opens the same
// database again (to test what survives a reopen), closed at the end.
type opener func(t *testing.T) *Store

// forEachDriver runs f once per driver, as subtests "sqlite" and
// "postgres" (with the integration tag), each with a new empty database.
func forEachDriver(t *testing.T, f func(t *testing.T, open opener)) {
	t.Run(DriverSQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "gw.db") // sub: Open makes the directory
		f(t, func(t *testing.T) *Store { return openTest(t, DriverSQLite, path, "") })
	})
	if newPostgres == nil {
		return
	}
	t.Run(DriverPostgres, func(t *testing.T) {
		dsn := newPostgres(t)
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
