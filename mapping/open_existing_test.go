package mapping

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// schemaVersionOf reads the schema the store at path or dsn records,
// without opening it as a store.
func schemaVersionOf(t *testing.T, driver, path, dsn string) int {
	t.Helper()
	d := sqliteDialect
	if driver == DriverPostgres {
		d = postgresDialect
	}
	db := databaseOf(t, driver, path, dsn)
	defer db.Close()
	v, err := d.schemaVersion(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// OpenExisting, for the shell's commands, opens a store of this code's
// schema, and refuses one of an older or a newer schema without
// migrating it (a gateway of that release may run on it), on each driver.
func TestOpenExistingNeverMigrates(t *testing.T) {
	ctx := context.Background()
	storeAt(t, func(t *testing.T, driver, path, dsn string) {
		latest := latestSchema(t)
		created(t, driver, path, dsn)
		s, err := OpenExisting(ctx, driver, path, dsn, false)
		if err != nil {
			t.Fatalf("this code's schema: %v", err)
		}
		if err := s.KV("t").Set(ctx, "k", "v"); err != nil {
			t.Error(err)
		}
		s.Close()
		for _, c := range []struct {
			have int
			want string
		}{
			{latest - 1, "the store's schema is " + strconv.Itoa(latest-1) + ", older than this xmppgw's " + strconv.Itoa(latest) +
				": stop the older xmppgw running on it, then start this release's `xmppgw run`, which migrates it"},
			{latest + 1, "the store's schema is " + strconv.Itoa(latest+1) + ", newer than this xmppgw's " + strconv.Itoa(latest) + ": run a newer release"},
		} {
			setSchema(t, driver, path, dsn, c.have)
			s, err := OpenExisting(ctx, driver, path, dsn, false)
			if err == nil {
				s.Close()
			}
			var se *SchemaError
			if !errors.As(err, &se) || se.Have != c.have || !strings.Contains(err.Error(), c.want) {
				t.Errorf("schema %d: got %v, want a *SchemaError saying %q", c.have, err, c.want)
			}
			if v := schemaVersionOf(t, driver, path, dsn); v != c.have {
				t.Errorf("schema %d: now %d", c.have, v)
			}
		}
	})
}

// A database with tables and no xmppgw schema (store.path or store.dsn
// naming another application's) is refused by OpenExisting as not an
// xmppgw store, left as it was: no table added, and a SQLite file not
// even switched to WAL. An empty one is refused as empty.
func TestOpenExistingRefusesOtherDatabases(t *testing.T) {
	ctx := context.Background()
	storeAt(t, func(t *testing.T, driver, path, dsn string) {
		raw := databaseOf(t, driver, path, dsn)
		if driver == DriverSQLite {
			// An empty file, as a mistaken touch leaves it.
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := OpenExisting(ctx, driver, path, dsn, false)
		if err == nil {
			s.Close()
		}
		var se *SchemaError
		if !errors.As(err, &se) || se.Foreign || !strings.Contains(err.Error(), "the store is empty") {
			t.Errorf("empty: got %v, want a *SchemaError saying the store is empty", err)
		}

		if _, err := raw.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)`); err != nil {
			t.Fatal(err)
		}
		s, err = OpenExisting(ctx, driver, path, dsn, false)
		if err == nil {
			s.Close()
		}
		if !errors.As(err, &se) || !se.Foreign || !strings.Contains(err.Error(), "not an xmppgw store") {
			t.Errorf("another application's: got %v, want a *SchemaError saying it is not an xmppgw store", err)
		}
		q := `SELECT count(*) FROM sqlite_master`
		if driver == DriverPostgres {
			q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`
		}
		var n int
		if err := raw.QueryRow(q).Scan(&n); err != nil || n != 1 {
			t.Errorf("the database has %d tables (%v), want its 1", n, err)
		}
		if driver == DriverSQLite {
			var mode string
			if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
				t.Errorf("journal mode %q (%v), want it left at delete", mode, err)
			}
		}
	})
}

// OpenExisting creates no SQLite file (nor its directory) that is not
// there.
func TestOpenExistingCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "gw.db")
	for _, lead := range []bool{false, true} {
		s, err := OpenExisting(context.Background(), DriverSQLite, path, "", lead)
		if err == nil {
			s.Close()
			t.Errorf("lead %v: a missing store opened", lead)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lead %v: %s is there: %v", lead, dir, err)
		}
	}
}
