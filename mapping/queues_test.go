package mapping

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// The queue operations not covered elsewhere, on each driver: ids ascend,
// a worker resumes after an id, Written and Failed remove what they should,
// sends are counted in order.
func TestQueuesAndCounts(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		ids, dup, err := s.ToXMPP().AcceptIDs(ctx, "sms", "in:1", []byte("<a/>"), []byte("<b/>"), []byte("<c/>"))
		if err != nil || dup || len(ids) != 3 || !(ids[0] < ids[1] && ids[1] < ids[2]) {
			t.Fatalf("AcceptIDs: %v, %v, %v", ids, dup, err)
		}
		if q, err := s.ToXMPP().PendingAfter(ctx, "sms", ids[0], 10); err != nil || len(q) != 2 || string(q[0].Stanza) != "<b/>" {
			t.Errorf("PendingAfter: %+v, %v", q, err)
		}
		if err := s.ToXMPP().Written(ctx, "sms", ids[1]); err != nil {
			t.Fatal(err)
		}
		if got := queuedStanzas(t, s, "sms"); !reflect.DeepEqual(got, []string{"<c/>"}) {
			t.Errorf("after Written: %q", got)
		}

		t0 := time.UnixMilli(1_700_000_000_000)
		s.now = func() time.Time { return t0 }
		a, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x.test/r", Remote: "+2", Body: "1", StanzaID: "1"})
		s.now = func() time.Time { return t0.Add(time.Second) }
		b, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "b@x.test/r", Remote: "+2", Body: "2", StanzaID: "2"})
		s.now = func() time.Time { return t0.Add(2 * time.Second) }
		if _, err := s.Jobs().Sent(ctx, Job{ID: a, Transport: "sms", Sender: "a@x.test/r", Remote: "+2", StanzaID: "1"}, "SM1"); err != nil {
			t.Fatal(err)
		}
		if out, in, err := s.Depth(ctx, "sms"); out != 1 || in != 1 || err != nil {
			t.Errorf("Depth: %d out, %d in, %v", out, in, err)
		}
		sends, err := s.Jobs().SendsSince(ctx, "sms", t0)
		// A sent message counts from when it was sent, a queued one from when it was queued.
		want := []Send{{"b@x.test", t0.Add(time.Second)}, {"a@x.test", t0.Add(2 * time.Second)}}
		if err != nil || len(sends) != 2 || sends[0].User != want[0].User || !sends[0].At.Equal(want[0].At) ||
			sends[1].User != want[1].User || !sends[1].At.Equal(want[1].At) {
			t.Errorf("SendsSince: %+v, %v; want %+v", sends, err, want)
		}
		if err := s.Jobs().Failed(ctx, Job{ID: b, Transport: "sms"}, []byte("<error/>")); err != nil {
			t.Fatal(err)
		}
		if jobs, _ := s.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) != 0 {
			t.Errorf("pending after Failed: %+v", jobs)
		}
		if got := queuedStanzas(t, s, "sms"); !reflect.DeepEqual(got, []string{"<c/>", "<error/>"}) {
			t.Errorf("queued after Failed: %q", got)
		}
		// A send recorded again under the same provider id replaces the record.
		if _, err := s.Jobs().Sent(ctx, Job{ID: b, Transport: "sms", Sender: "b@x.test/r", Remote: "+3", StanzaID: "2", Receipt: true}, "SM1"); err != nil {
			t.Fatal(err)
		}
		if rec, ok, err := s.Jobs().LookupSent(ctx, "sms", Report{RemoteID: "SM1"}); !ok || err != nil || rec.Remote != "+3" || !rec.Receipt {
			t.Errorf("record after a second send: %+v, %v, %v", rec, ok, err)
		}
	})
}

// Links listed and replaced by bulk import and by an operator, on each
// driver; lists are sorted bytewise, as SQLite does.
func TestLinkListsAndImport(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		s.Links().SyncStaticLinks(ctx, "tg", map[string]string{"a": "Zed@x.test"})
		if err := s.Links().ImportLinks(ctx, "tg", []Link{{Remote: "a", User: "u@x.test", Name: "A"}, {Remote: "B", User: "u@x.test"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Links().AddLink(ctx, "tg", "_c", "u@x.test", []byte("<s/>")); err != nil {
			t.Fatal(err)
		}
		links, err := s.Links().LinksOf(ctx, "tg", "u@x.test")
		want := []Link{
			{Remote: "B", User: "u@x.test", Asked: true},
			{Remote: "_c", User: "u@x.test", Asked: true},
			{Remote: "a", User: "u@x.test", Name: "A", Asked: true}, // no longer static: replaced
		}
		if err != nil || !reflect.DeepEqual(links, want) {
			t.Errorf("LinksOf: %+v, %v; want %+v", links, err, want)
		}
		if all, err := s.Links().AllLinks(ctx, "tg"); err != nil || !reflect.DeepEqual(all, want) {
			t.Errorf("AllLinks: %+v, %v", all, err)
		}
		s.Links().AddLink(ctx, "tg", "d", "Alice@x.test")
		if users, err := s.Links().LinkedUsers(ctx, "tg"); err != nil || !reflect.DeepEqual(users, []string{"Alice@x.test", "u@x.test"}) {
			t.Errorf("LinkedUsers: %q, %v", users, err)
		}
	})
}

// JobsByID reads back queued jobs by id, oldest first, leaving out those
// no longer queued and other transports'.
func TestJobsByID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		var ids []int64
		for i, tr := range []string{"sms", "sms", "tg", "sms"} {
			id, _, err := s.Jobs().Enqueue(ctx, Job{Transport: tr, Sender: "a@x.test/r", Remote: "+2", Body: strconv.Itoa(i), StanzaID: strconv.Itoa(i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if _, err := s.Jobs().Sent(ctx, Job{ID: ids[1], Transport: "sms", Sender: "a@x.test/r", Remote: "+2", StanzaID: "1"}, "SM1"); err != nil {
			t.Fatal(err)
		}
		jobs, err := s.Jobs().JobsByID(ctx, "sms", []int64{ids[3], ids[2], ids[1], ids[0]})
		var got []string
		for _, j := range jobs {
			got = append(got, j.Body)
		}
		if err != nil || !reflect.DeepEqual(got, []string{"0", "3"}) || jobs[0].ID != ids[0] || jobs[0].Remote != "+2" {
			t.Errorf("JobsByID: %q (%+v), %v; want 0 and 3", got, jobs, err)
		}
		if jobs, err := s.Jobs().JobsByID(ctx, "sms", nil); len(jobs) != 0 || err != nil {
			t.Errorf("JobsByID of none: %+v, %v", jobs, err)
		}
	})
}

// Replace rewrites waiting stanzas in place, keeping their ids and order;
// another transport's, and ids no longer waiting, are left alone.
func TestReplaceStanzas(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		ids, _, err := s.ToXMPP().AcceptIDs(ctx, "sms", "", []byte("<a/>"), []byte("<b/>"), []byte("<c/>"))
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := s.ToXMPP().AcceptIDs(ctx, "tg", "", []byte("<t/>"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ToXMPP().Written(ctx, "sms", ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.ToXMPP().Replace(ctx, "sms", []Queued{{ID: ids[0], Stanza: []byte("<x/>")}, {ID: ids[2], Stanza: []byte("<c2/>")}, {ID: other[0], Stanza: []byte("<y/>")}}); err != nil {
			t.Fatal(err)
		}
		if got := queuedStanzas(t, s, "sms"); !reflect.DeepEqual(got, []string{"<b/>", "<c2/>"}) {
			t.Errorf("sms after Replace: %q", got)
		}
		if got := queuedStanzas(t, s, "tg"); !reflect.DeepEqual(got, []string{"<t/>"}) {
			t.Errorf("tg after Replace: %q", got)
		}
	})
}
