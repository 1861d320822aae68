package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
)

// SchemaError is the error of opening a store whose schema this xmppgw
// cannot work with: a newer release's (Open, OpenExisting), or for the
// shell's commands any other (OpenExisting).
type SchemaError struct {
	Have int // the store's schema: the number of its last migration, 0 if none
	Want int // this xmppgw's: the number of its last migration
	// Foreign: the database has no xmppgw schema but has tables: it is
	// not an xmppgw store.
	Foreign bool
}

func (e *SchemaError) Error() string {
	switch {
	case e.Have > e.Want:
		return fmt.Sprintf("mapping: the store's schema is %d, newer than this xmppgw's %d: run a newer release", e.Have, e.Want)
	case e.Foreign:
		return "mapping: not an xmppgw store: the database has tables but no xmppgw schema (does the config name another application's database?)"
	case e.Have == 0:
		return "mapping: the store is empty: this xmppgw's `xmppgw run` creates its schema when it first starts"
	}
	return fmt.Sprintf("mapping: the store's schema is %d, older than this xmppgw's %d: stop the older xmppgw running on it, "+
		"then start this release's `xmppgw run`, which migrates it (or use the older release's command)", e.Have, e.Want)
}

// checkSchema returns nil if the database q reads has this code's schema,
// else a *SchemaError, or the error reading it.
func checkSchema(ctx context.Context, d *dialect, q querier) error {
	have, err := d.schemaVersion(ctx, q)
	if err != nil {
		return fmt.Errorf("%w: read schema version: %w", ErrUnavailable, err)
	}
	all, err := migrationsOf(d, migrations, "migrations")
	if err != nil {
		return err
	}
	if have == lastOf(all) {
		return nil
	}
	e := &SchemaError{Have: have, Want: lastOf(all)}
	if have == 0 {
		var n int
		if err := q.QueryRowContext(ctx, d.userTables).Scan(&n); err != nil {
			return fmt.Errorf("%w: list tables: %w", ErrUnavailable, err)
		}
		e.Foreign = n > 0
	}
	return e
}

// probeSQLite checks the schema of the existing SQLite file at path on a
// connection of its own, which neither creates the file nor changes any
// of its settings.
func probeSQLite(ctx context.Context, path string) error {
	q := url.Values{}
	q.Add("mode", "rw") // not rwc: a missing file is not created
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("mapping: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return checkSchema(ctx, sqliteDialect, db)
}
