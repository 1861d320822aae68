package mapping

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// storeAt gives each driver's subtest a new database, as Open's arguments.
func storeAt(t *testing.T, f func(t *testing.T, driver, path, dsn string)) {
	t.Run(DriverSQLite, func(t *testing.T) {
		f(t, DriverSQLite, filepath.Join(t.TempDir(), "gw.db"), "")
	})
	if newPostgres == nil {
		return
	}
	t.Run(DriverPostgres, func(t *testing.T) {
		f(t, DriverPostgres, "", newPostgres(t))
	})
}

// setSchema records n as the store's schema, as a release with n
// migrations would have left it.
func setSchema(t *testing.T, driver, path, dsn string, n int) {
	t.Helper()
	s, err := Open(context.Background(), driver, path, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := "PRAGMA user_version = " + strconv.Itoa(n)
	if driver == DriverPostgres {
		q = "DELETE FROM schema_version WHERE version > " + strconv.Itoa(n)
		if n > latestSchema(t) {
			q = "INSERT INTO schema_version (version) VALUES (" + strconv.Itoa(n) + ")"
		}
	}
	if _, err := s.db.Exec(q); err != nil {
		t.Fatal(q, err)
	}
}

// latestSchema is the number of this code's last migration.
func latestSchema(t *testing.T) int {
	t.Helper()
	ms, err := migrationsOf(sqliteDialect, migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return lastOf(ms)
}

// A store a newer release migrated (a rollback to an older binary) is
// refused, on each driver, with a *SchemaError naming both schemas.
func TestOpenRefusesNewerSchema(t *testing.T) {
	storeAt(t, func(t *testing.T, driver, path, dsn string) {
		latest := latestSchema(t)
		setSchema(t, driver, path, dsn, latest+1)
		s, err := Open(context.Background(), driver, path, dsn)
		if err == nil {
			s.Close()
			t.Fatalf("a store of schema %d opened with this code's %d", latest+1, latest)
		}
		var se *SchemaError
		want := "the store's schema is " + strconv.Itoa(latest+1) + ", newer than this xmppgw's " + strconv.Itoa(latest) + ": run a newer release"
		if !errors.As(err, &se) || se.Have != latest+1 || se.Want != latest || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v (%#v), want a *SchemaError saying %q", err, se, want)
		}
	})
}
