package mapping

import (
	"context"
	"reflect"
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
