package mapping

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Every migration number means the same change in each dialect.
func TestMigrationsMatch(t *testing.T) {
	numbers := func(d *dialect) []int {
		ms, err := migrationsOf(d)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int
		for i, m := range ms {
			if m.n != i+1 {
				t.Errorf("%s: migration %s is number %d, want %d", d.name, m.name, m.n, i+1)
			}
			ns = append(ns, m.n)
		}
		return ns
	}
	if a, b := numbers(sqliteDialect), numbers(postgresDialect); !reflect.DeepEqual(a, b) {
		t.Errorf("sqlite migrations %v, postgres %v", a, b)
	}
}

// A SQLite database made by migrations 001-003, with the column user, opens
// and migrates forward with its data.
func TestSQLiteMigratesForward(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gw.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrationsOf(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all[:3] {
		if _, err := db.Exec(m.body); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
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
