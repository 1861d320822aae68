package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"xmppgw/mapping"
)

// The shell's commands never migrate the store: a newer binary's `links
// list`, `contacts list` or `store drop-transport` (without -yes, which
// only reads) beside an older gateway leave its schema as it is, and say
// how to migrate it.
func TestShellCommandsDoNotMigrate(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	s, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The store as the release before migration 017 left it.
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{"DROP TABLE alert_closed", "ALTER TABLE alert_groups DROP COLUMN route_id", "ALTER TABLE alert_groups DROP COLUMN base", "PRAGMA user_version = 16"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	for _, args := range [][]string{
		{"links", "list", "-config", path},
		{"contacts", "list", "-config", path},
		{"store", "drop-transport", "-config", path, "gone"},
	} {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		want := "the store's schema is 16, older than this xmppgw's 18: stop the older xmppgw running on it, then start this release's `xmppgw run`, which migrates it"
		if code != exitFailure || !strings.Contains(errb.String(), want) {
			t.Errorf("%s: exit %d: %s%s\nwant %d saying %q", strings.Join(args[:2], " "), code, out.String(), errb.String(), exitFailure, want)
		}
		var v int
		if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 16 {
			t.Fatalf("%s: the schema is now %d (%v)", strings.Join(args[:2], " "), v, err)
		}
	}
}

// store.path naming another application's SQLite file: `links list`
// refuses it as not an xmppgw store, and adds no table to it.
func TestShellCommandRefusesAnotherDatabase(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "app.db")
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(ctx, []string{"links", "list", "-config", runConfig(t, db, "")}, &out, &errb)
	if want := "not an xmppgw store"; code != exitFailure || !strings.Contains(errb.String(), want) {
		t.Errorf("exit %d: %s%s\nwant %d saying %q", code, out.String(), errb.String(), exitFailure, want)
	}
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil || n != 1 {
		t.Errorf("the file has %d tables (%v), want its 1", n, err)
	}
}
