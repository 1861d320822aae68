package mapping

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
)

// A store the release created (its own migrations, from testdata/release)
// and that holds a link and a queued message opens with this code: its
// data is there, and its schema is the one a new store gets.
func TestReleaseStoreOpens(t *testing.T) {
	t.Run(DriverSQLite, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gw.db")
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(t.TempDir(), "new.db")
		checkReleaseStore(t, raw, sqliteDialect, func() *Store { return openTest(t, DriverSQLite, path, "") },
			func() *Store { return openTest(t, DriverSQLite, fresh, "") })
	})
	if newPostgres == nil {
		return
	}
	t.Run(DriverPostgres, func(t *testing.T) {
		dsn, freshDSN := newPostgres(t), newPostgres(t)
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		checkReleaseStore(t, raw, postgresDialect, func() *Store { return openTest(t, DriverPostgres, "", dsn) },
			func() *Store { return openTest(t, DriverPostgres, "", freshDSN) })
	})
}

var _ = stdlib.GetDefaultDriver // registers "pgx"

func checkReleaseStore(t *testing.T, raw *sql.DB, d *dialect, open, openFresh func() *Store) {
	ctx := context.Background()
	rel := &Store{db: raw, d: d}
	if err := rel.migrateFrom(ctx, os.DirFS("testdata/release"), d.name); err != nil {
		t.Fatalf("the release's migrations: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO links (transport, remote, jid, name, static, asked, created) VALUES ('tg', '5', 'bob@x.test', 'Five', false, true, 1)`,
		`INSERT INTO outbox (transport, sender, account, remote, body, stanza_id, created) VALUES ('sms', 'a@x.test/r', '+1', '+2', 'kept', 's1', 1)`,
	} {
		if _, err := raw.ExecContext(ctx, d.bind(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	s := open()
	if l, ok, err := s.Links().LinkOf(ctx, "tg", "5"); !ok || err != nil || l != (Link{Remote: "5", User: "bob@x.test", Name: "Five", Asked: true}) {
		t.Errorf("link %+v, %v, %v", l, ok, err)
	}
	if jobs, err := s.Jobs().Pending(ctx, "sms", 0, 10); err != nil || len(jobs) != 1 || jobs[0].Body != "kept" {
		t.Errorf("queued: %+v, %v", jobs, err)
	}
	if got, want := schemaOf(t, s), schemaOf(t, openFresh()); !reflect.DeepEqual(got, want) {
		t.Errorf("the release's store has the schema\n%v\na new store\n%v", got, want)
	}
}

// schemaOf describes s's tables, columns and indexes, one string each.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	q := `SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`
	if s.d == postgresDialect {
		q = `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') || ' ' || COALESCE(collation_name, '')
			FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_version'
			UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_version' ORDER BY 1`
	}
	rows, err := s.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}
