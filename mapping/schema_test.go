package mapping

import (
	"context"
	"database/sql"
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

// created makes the store, as the gateway's first run does.
func created(t *testing.T, driver, path, dsn string) {
	t.Helper()
	s, err := Open(context.Background(), driver, path, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// databaseOf opens the store's database without the store.
func databaseOf(t *testing.T, driver, path, dsn string) *sql.DB {
	t.Helper()
	name, src := "sqlite", "file:"+path
	if driver == DriverPostgres {
		name, src = "pgx", dsn
	}
	db, err := sql.Open(name, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// setSchema records n as the schema of the store created, as a release
// with n migrations would have left it.
func setSchema(t *testing.T, driver, path, dsn string, n int) {
	t.Helper()
	q := "PRAGMA user_version = " + strconv.Itoa(n)
	if driver == DriverPostgres {
		q = "DELETE FROM schema_version WHERE version > " + strconv.Itoa(n)
		if n > latestSchema(t) {
			q = "INSERT INTO schema_version (version) VALUES (" + strconv.Itoa(n) + ")"
		}
	}
	db := databaseOf(t, driver, path, dsn)
	if _, err := db.Exec(q); err != nil {
		t.Fatal(q, err)
	}
	db.Close()
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
		created(t, driver, path, dsn)
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
