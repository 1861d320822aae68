package mapping

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The single source gives each dialect exactly the statements of the
// release's own per-dialect files (testdata/release, frozen from the last
// release before the migrations were merged), comments aside, so a store
// that release created has the schema a new one gets.
func TestMigrationsAsReleased(t *testing.T) {
	for _, d := range []*dialect{sqliteDialect, postgresDialect} {
		ms, err := migrationsOf(d, migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		released, err := migrationsOf(d, os.DirFS("testdata/release"), d.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) < len(released) {
			t.Fatalf("%s: %d migrations, the release had %d", d.name, len(ms), len(released))
		}
		for i, m := range ms {
			if m.n != i+1 {
				t.Errorf("%s: migration %s is number %d, want %d", d.name, m.name, m.n, i+1)
			}
			if i < len(released) {
				if got, want := statements(m.body), statements(released[i].body); got != want {
					t.Errorf("%s %s:\n%s\nthe release ran:\n%s", d.name, m.name, got, want)
				}
			}
		}
	}
}

// statements is SQL without its comments, blank lines and the spaces they
// leave at ends of lines.
func statements(sql string) string {
	var out []string
	for _, l := range strings.Split(sql, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimRight(l, " \t"); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sqliteAt makes a SQLite database at path with the first n migrations
// (its user_version is left for the caller to set), and returns it with all
// of them.
func sqliteAt(t *testing.T, path string, n int) (*sql.DB, []migration) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrationsOf(sqliteDialect, migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all[:n] {
		if _, err := db.Exec(m.body); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	return db, all
}

// A SQLite database made by migrations 001-003, with the column user, opens
// and migrates forward with its data.
func TestSQLiteMigratesForward(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gw.db")
	db, all := sqliteAt(t, path, 3)
	future := time.Now().Add(time.Hour).UnixMilli()
	for _, q := range []string{
		`PRAGMA user_version = 3`,
		`INSERT INTO last_writer (transport, account, remote, user, at) VALUES ('sms', '+1', '+2', 'alice@x.test', 1)`,
		`INSERT INTO links (transport, remote, user, name, static, asked, created) VALUES ('tg', '5', 'bob@x.test', 'Five', 0, 1, 1)`,
		`INSERT INTO link_codes (transport, code, user, expires) VALUES ('tg', 'ABCD2345', 'carol@x.test', ` + strconv.FormatInt(future, 10) + `)`,
		`INSERT INTO outbox (transport, sender, account, remote, body, stanza_id, created) VALUES ('sms', 'a@x/r', '+1', '+2', 'old', 's1', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openTest(t, DriverSQLite, path, "")
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(all) {
		t.Errorf("user_version %d, %v; want %d", v, err, len(all))
	}
	if w, err := s.Jobs().LastWriter(ctx, "sms", "+1", "+2"); w != "alice@x.test" || err != nil {
		t.Errorf("last writer %q, %v", w, err)
	}
	if l, ok, err := s.Links().LinkOf(ctx, "tg", "5"); !ok || err != nil || l != (Link{Remote: "5", User: "bob@x.test", Name: "Five", Asked: true}) {
		t.Errorf("link %+v, %v, %v", l, ok, err)
	}
	if users, err := s.Links().LinksOf(ctx, "tg", "bob@x.test"); len(users) != 1 || err != nil {
		t.Errorf("links of bob: %+v, %v", users, err)
	}
	if u, err := s.Links().RedeemLinkCode(ctx, "tg", "ABCD2345", "6", "Six", stanzaFor("s")); u != "carol@x.test" || err != nil {
		t.Errorf("redeem: %q, %v", u, err)
	}
	if jobs, err := s.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) != 1 || jobs[0].Body != "old" || err != nil {
		t.Errorf("pending %+v, %v", jobs, err)
	}
	id, _, err := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x/r", Remote: "+2", Body: "new", StanzaID: "s2"})
	if err != nil || id <= 1 {
		t.Errorf("enqueue after migrating: id %d, %v", id, err)
	}
}

// Migration 015: the media rows of MMS received before it expire once no
// URL for them can work (366 days on), and Prune then deletes them; other
// state does not expire.
func TestSQLiteOldMediaExpire(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gw.db")
	db, _ := sqliteAt(t, path, 14)
	for _, q := range []string{
		`PRAGMA user_version = 14`,
		`INSERT INTO kv (transport, key, value) VALUES ('sms', 'media/SM1/0', 'image/jpeg')`,
		`INSERT INTO kv (transport, key, value) VALUES ('tg', 'offset', '42')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openTest(t, DriverSQLite, path, "")
	s.now = func() time.Time { return time.Now().Add(367 * 24 * time.Hour) }
	if err := s.Prune(ctx, s.now().Add(-14*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.KV("sms").Get(ctx, "media/SM1/0"); v != "" || err != nil {
		t.Errorf("an old medium after 367 days: %q, %v", v, err)
	}
	if v, err := s.KV("tg").Get(ctx, "offset"); v != "42" || err != nil {
		t.Errorf("other state: %q, %v", v, err)
	}
}
