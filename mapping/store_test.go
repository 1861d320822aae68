package mapping

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Jobs and queued stanzas survive reopening the store, and job ids are never
// reused, so a worker resuming after the last id it saw misses nothing.
func TestStoreDurableAndOrdered(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		j := Job{Transport: "sms", Sender: "alice@example.test/a", Account: "+1", Remote: "+2", Body: "b", StanzaID: "x", Shared: true}
		id1, _, err := s.Jobs().Enqueue(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Jobs().Sent(ctx, Job{ID: id1, Transport: "sms"}, "R1"); err != nil {
			t.Fatal(err)
		}
		j.StanzaID = "y"
		id2, _, _ := s.Jobs().Enqueue(ctx, j)
		if id2 <= id1 {
			t.Errorf("id %d reused after %d was deleted", id2, id1)
		}
		if _, err := s.ToXMPP().Accept(ctx, "sms", "in:SM1", []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s = open(t) // migrations run again: nothing to do
		jobs, err := s.Jobs().Pending(ctx, "sms", id1, 10)
		if err != nil || len(jobs) != 1 || jobs[0].ID != id2 || jobs[0].Body != "b" {
			t.Fatalf("pending after reopen: %+v, %v", jobs, err)
		}
		q, err := s.ToXMPP().Pending(ctx, "sms", 10)
		if err != nil || len(q) != 1 || string(q[0].Stanza) != "<message/>" {
			t.Fatalf("outgoing after reopen: %+v, %v", q, err)
		}
		if dup, _ := s.ToXMPP().Accept(ctx, "sms", "in:SM1", []byte("<message/>")); !dup {
			t.Error("a replayed key after reopen was not a duplicate")
		}
		if w, _ := s.Jobs().LastWriter(ctx, "sms", "+1", "+2"); w != "alice@example.test" {
			t.Errorf("last writer %q", w)
		}
	})
}

// A delivery report that arrives before its send is recorded is kept and
// handed over when the send is recorded.
func TestStoreEarlyReport(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if _, found, err := s.Jobs().LookupSent(ctx, "sms", Report{RemoteID: "R9", State: "delivered"}); err != nil || found {
			t.Fatalf("found %v, %v", found, err)
		}
		id, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@b/c", Account: "+1", Remote: "+2", StanzaID: "s9", Receipt: true})
		early, err := s.Jobs().Sent(ctx, Job{ID: id, Transport: "sms", Sender: "a@b/c", Remote: "+2", StanzaID: "s9", Receipt: true}, "R9")
		if err != nil || len(early) != 1 || early[0].State != "delivered" {
			t.Fatalf("early %+v, %v", early, err)
		}
		rec, found, err := s.Jobs().LookupSent(ctx, "sms", Report{RemoteID: "R9", State: "delivered"})
		if err != nil || !found || rec.StanzaID != "s9" || !rec.Receipt {
			t.Fatalf("lookup %+v %v %v", rec, found, err)
		}
	})
}

// The reports a Sent returns stay stored until ReportedEarly stores their
// answer, in one transaction: a crash in between leaves them for
// EarlyReportsSent at the next open. A report answered twice is stored
// once. Sent queues the stanzas it is given with the send's record.
func TestStoreEarlyReportSurvivesACrash(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		r := Report{RemoteID: "R9", State: "failed", Code: "30003", Text: "Unreachable"}
		if _, found, err := s.Jobs().LookupSent(ctx, "sms", r); err != nil || found {
			t.Fatalf("found %v, %v", found, err)
		}
		j := Job{Transport: "sms", Sender: "a@b/c", Account: "+1", Remote: "+2", StanzaID: "s9", Receipt: true}
		var err error
		if j.ID, _, err = s.Jobs().Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Jobs().Sent(ctx, j, "R9", []byte("<message id='accepted'/>")); err != nil {
			t.Fatal(err)
		}
		s.Close() // a crash before the report is answered

		s = open(t)
		left, err := s.Jobs().EarlyReportsSent(ctx, "sms")
		if err != nil || len(left) != 1 || left[0] != r {
			t.Fatalf("left after reopening: %+v, %v; want %+v", left, err, r)
		}
		for range 2 {
			if err := s.Jobs().ReportedEarly(ctx, "sms", r, "status:R9:failed", []byte("<message id='failed'/>")); err != nil {
				t.Fatal(err)
			}
		}
		if left, err := s.Jobs().EarlyReportsSent(ctx, "sms"); err != nil || len(left) != 0 {
			t.Errorf("left once answered: %+v, %v", left, err)
		}
		q, err := s.ToXMPP().Pending(ctx, "sms", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range q {
			got = append(got, string(st.Stanza))
		}
		if want := []string{"<message id='accepted'/>", "<message id='failed'/>"}; !slices.Equal(got, want) {
			t.Errorf("queued for XMPP %q, want %q", got, want)
		}
	})
}

func TestStorePrune(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		s.ToXMPP().Accept(ctx, "sms", "in:old")
		s.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
		if err := s.Prune(ctx, time.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if dup, _ := s.ToXMPP().Accept(ctx, "sms", "in:old"); dup {
			t.Error("an old key was kept")
		}
		if dup, _ := s.ToXMPP().Accept(ctx, "sms", "in:old"); !dup {
			t.Error("a recent key was pruned")
		}
	})
}

// A client resending a message (same sender, id, recipient and body) within
// the resend window queues it once; the same id with another body, to
// another recipient, or after the window is a new message.
func TestEnqueueDedupesResends(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		now := time.Unix(1_700_000_000, 0)
		s.now = func() time.Time { return now }
		base := Job{Transport: "sms", Sender: "alice@x.test/phone", Account: "+1", Remote: "+2", Body: "disk full", StanzaID: "1"}
		steps := []struct {
			name  string
			edit  func(*Job)
			later time.Duration
			dup   bool
		}{
			{"first", func(*Job) {}, 0, false},
			{"resent from another resource", func(j *Job) { j.Sender = "alice@x.test/laptop" }, 0, true},
			{"same id, other body", func(j *Job) { j.Body = "disk ok" }, 0, false},
			{"same id, other recipient", func(j *Job) { j.Remote = "+3" }, 0, false},
			{"no id", func(j *Job) { j.StanzaID = "" }, 0, false},
			{"no id again", func(j *Job) { j.StanzaID = "" }, 0, false},
			{"within the window", func(*Job) {}, 9 * time.Minute, true},
			{"after the window", func(*Job) {}, 20 * time.Minute, false},
		}
		queued := 0
		for _, st := range steps {
			now = now.Add(st.later)
			j := base
			st.edit(&j)
			_, dup, err := s.Jobs().Enqueue(ctx, j)
			if err != nil || dup != st.dup {
				t.Errorf("%s: dup %v, err %v; want dup %v", st.name, dup, err, st.dup)
			}
			if !dup {
				queued++
			}
		}
		if jobs, _ := s.Jobs().Pending(ctx, "sms", 0, 100); len(jobs) != queued {
			t.Errorf("%d jobs queued, want %d", len(jobs), queued)
		}
	})
}

// A failed attempt records when the send of unknown outcome began, or
// clears it when the provider surely did not take the message.
func TestInflightMark(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		id, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x/r", Remote: "+2", Body: "b", StanzaID: "m"})
		t1 := time.UnixMilli(1_700_000_000_000)
		s.Jobs().Attempted(ctx, id, t1)
		if jobs, _ := s.Jobs().Pending(ctx, "sms", 0, 1); !jobs[0].Inflight.Equal(t1) || jobs[0].Attempts != 1 {
			t.Errorf("after an unknown outcome: %+v", jobs[0])
		}
		s.Jobs().Attempted(ctx, id, time.Time{})
		if jobs, _ := s.Jobs().Pending(ctx, "sms", 0, 1); !jobs[0].Inflight.IsZero() || jobs[0].Attempts != 2 {
			t.Errorf("mark kept after a refusal: %+v", jobs[0])
		}
		if known, _ := s.Jobs().KnownRemote(ctx, "sms", "SM1"); known {
			t.Error("SM1 known before it was sent")
		}
		s.Jobs().Sent(ctx, Job{ID: id, Transport: "sms", Sender: "a@x/r", Remote: "+2", StanzaID: "m"}, "SM1")
		if known, _ := s.Jobs().KnownRemote(ctx, "sms", "SM1"); !known {
			t.Error("SM1 unknown after it was sent")
		}
	})
}

// After a run that died, every job queued before the new start is marked
// possibly sent, and the marks are stored.
func TestMarkUnresolved(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		old := time.UnixMilli(1_700_000_000_000)
		s.now = func() time.Time { return old }
		a, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x/r", Remote: "+2", Body: "a", StanzaID: "1"})
		b, _, _ := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x/r", Remote: "+2", Body: "b", StanzaID: "2"})
		s.Jobs().Attempted(ctx, b, old.Add(time.Second)) // already marked: kept
		s.now = time.Now
		s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "a@x/r", Remote: "+2", Body: "c", StanzaID: "3"})
		n, err := s.Jobs().MarkUnresolved(ctx, "sms", old.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("marked %d, %v", n, err)
		}
		jobs, _ := s.Jobs().Pending(ctx, "sms", 0, 10)
		want := map[int64]time.Time{a: old, b: old.Add(time.Second)}
		for _, j := range jobs {
			if w := want[j.ID]; !j.Inflight.Equal(w) {
				t.Errorf("job %d (%s): inflight %v, want %v", j.ID, j.Body, j.Inflight, w)
			}
		}
	})
}

// Sent run again for a job it removed already (persist retrying after a
// commit that succeeded but reported an error) does not queue its
// stanzas twice.
func TestSentTwiceQueuesOnce(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		j := Job{Transport: "tg", Sender: "a@b/c", Remote: "5", StanzaID: "s1", Receipt: true}
		var err error
		if j.ID, _, err = s.Jobs().Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.Jobs().Sent(ctx, j, "5:10", []byte("<message id='accepted'/>")); err != nil {
				t.Fatal(err)
			}
		}
		if q, err := s.ToXMPP().Pending(ctx, "tg", 10); err != nil || len(q) != 1 {
			t.Errorf("queued %d stanzas, %v; want the receipt once", len(q), err)
		}
	})
}
