package mapping

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A transport renamed or removed leaves its rows under its old name:
// TransportNames finds the name, CountTransport counts its rows and
// DropTransport deletes them, leaving other names' rows alone.
func TestTransportNamesAndDrop(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		job := func(transport, id string) Job {
			return Job{Transport: transport, Sender: "alice@example.test/pc", Account: "+15550001111",
				Remote: "+15557654321", Body: "hi", StanzaID: id}
		}
		for _, j := range []Job{job("old", "o1"), job("old", "o2"), job("sms", "s1")} {
			if _, _, err := s.Jobs().Enqueue(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		// A link with its notice queued for XMPP, and the transport's state.
		if err := s.Links().AddLink(ctx, "old", "111", "alice@example.test", []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		if err := s.KV("old").Set(ctx, "offset", "42"); err != nil {
			t.Fatal(err)
		}
		if err := s.KV("telegram").Set(ctx, "offset", "7"); err != nil {
			t.Fatal(err)
		}

		names, err := s.TransportNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"old", "sms", "telegram"}; !reflect.DeepEqual(names, want) {
			t.Errorf("TransportNames = %q, want %q", names, want)
		}
		// Other holds the state, and on PostgreSQL the jobs' dedupe keys
		// too (in memory on SQLite).
		want, err := s.CountTransport(ctx, "old")
		if err != nil || want.Jobs != 2 || want.ToXMPP != 1 || want.Links != 1 || want.Other < 1 || !want.Pending() ||
			want.Total() != 4+want.Other {
			t.Errorf("CountTransport(old) = %+v, %v; want 2 jobs, 1 stanza, 1 link, other rows", want, err)
		}
		if r, err := s.CountTransport(ctx, "telegram"); err != nil || r != (TransportRows{Other: 1}) || r.Pending() {
			t.Errorf("CountTransport(telegram) = %+v, %v; want only one other row", r, err)
		}
		if r, err := s.DropTransport(ctx, "old"); err != nil || r != want {
			t.Errorf("DropTransport(old) = %+v, %v; want %+v", r, err, want)
		}
		if r, err := s.CountTransport(ctx, "old"); err != nil || r != (TransportRows{}) {
			t.Errorf("after the drop, CountTransport(old) = %+v, %v", r, err)
		}
		s.Close()
		s = open(t) // what was dropped stays dropped
		if names, err := s.TransportNames(ctx); err != nil || !reflect.DeepEqual(names, []string{"sms", "telegram"}) {
			t.Errorf("after the drop, TransportNames = %q, %v", names, err)
		}
		if jobs, err := s.Jobs().Pending(ctx, "sms", 0, 10); err != nil || len(jobs) != 1 {
			t.Errorf("sms's jobs after dropping old: %d, %v", len(jobs), err)
		}
	})
}

// Rows the gateway writes under names that are no transport's are not
// strangers: the readiness probe's row under "" belongs to none, and a
// transport's core state under NAME+"#core" to NAME, whose count and drop
// take it along. Neither "" nor a "#" name can be counted or dropped
// alone.
func TestTransportNamesOwnRows(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		s := open(t)
		ctx := context.Background()
		if err := s.CheckWrite(ctx); err != nil { // KV("")
			t.Fatal(err)
		}
		for _, name := range []string{"sms#core", "old#core", "old"} {
			if err := s.KV(name).Set(ctx, "own-message-key", "00"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.KV("only#core").Set(ctx, "own-message-key", "00"); err != nil {
			t.Fatal(err)
		}
		names, err := s.TransportNames(ctx)
		if want := []string{"old", "only", "sms"}; err != nil || !reflect.DeepEqual(names, want) {
			t.Errorf("TransportNames = %q, %v; want %q", names, err, want)
		}
		if r, err := s.CountTransport(ctx, "old"); err != nil || r != (TransportRows{Other: 2}) {
			t.Errorf("CountTransport(old) = %+v, %v; want old's and old#core's rows", r, err)
		}
		if r, err := s.CountTransport(ctx, "only"); err != nil || r != (TransportRows{Other: 1}) {
			t.Errorf("CountTransport(only) = %+v, %v; want only#core's row", r, err)
		}
		for _, name := range []string{"", "old#core"} {
			if _, err := s.CountTransport(ctx, name); err == nil {
				t.Errorf("CountTransport(%q) did not refuse", name)
			}
			if _, err := s.DropTransport(ctx, name); err == nil {
				t.Errorf("DropTransport(%q) did not refuse", name)
			}
		}
		if r, err := s.DropTransport(ctx, "old"); err != nil || r != (TransportRows{Other: 2}) {
			t.Errorf("DropTransport(old) = %+v, %v; want old's and old#core's rows", r, err)
		}
		names, err = s.TransportNames(ctx)
		if want := []string{"only", "sms"}; err != nil || !reflect.DeepEqual(names, want) {
			t.Errorf("after the drop, TransportNames = %q, %v; want %q", names, err, want)
		}
		for name, key := range map[string]string{"": "write_probe", "sms#core": "own-message-key"} {
			if v, err := s.KV(name).Get(ctx, key); err != nil || v == "" {
				t.Errorf("after dropping old, %q's row is gone (%v)", name, err)
			}
		}
	})
}

// The stranded check runs at every start: its queries use an index on
// every table but seen_events, which has none by design (appended to,
// pruned from its first row; see migration 014) and is read only when a
// name the config lacks is counted or dropped.
func TestTransportQueriesUseIndexes(t *testing.T) {
	s := openTest(t, DriverSQLite, filepath.Join(t.TempDir(), "gw.db"), "")
	ctx := context.Background()
	for _, table := range append(slices.Clone(lastingTransportTables), prunedTransportTables...) {
		qs := []string{`SELECT count(*) FROM ` + table + ` WHERE transport = 'x'`, `DELETE FROM ` + table + ` WHERE transport = 'x'`}
		if slices.Contains(lastingTransportTables, table) {
			qs = append(qs, transportNamesQuery(table))
		}
		for _, q := range qs {
			rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			p := strings.Join(plan, " | ")
			scans := strings.Contains(p, "SCAN "+table) && !strings.Contains(p, "USING COVERING INDEX") && !strings.Contains(p, "USING INDEX") ||
				strings.Contains(p, "SEARCH "+table) && !strings.Contains(p, "USING")
			if scans != (table == "seen_events") {
				t.Errorf("%s: %s: plan %s", table, q, p)
			}
		}
	}
}
