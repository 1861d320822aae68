package mapping

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// An alert group is stored with its code, changed, found by a
// notification's id, and forgotten when it closes, its code free again; a
// code two open groups would share is refused.
func TestAlertGroups(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		since := time.UnixMilli(1_700_000_000_000)
		g := AlertGroup{Key: "alert-0123456789abcdef", Code: "K4", Route: 0,
			Subject: "HighLatency (severity=critical)", Labels: map[string]string{"alertname": "HighLatency"},
			Firing: "f1,f2", FullText: "#K4 [FIRING:2] HighLatency", SMSText: "#K4 [FIRING:2]",
			Recipients: []string{"bob@example.test", "+15551234567@sms.example.test"}, Since: since}
		if err := s.Alerts().Open(ctx, g); err != nil {
			t.Fatal(err)
		}
		other := g
		other.Key = "other"
		if err := s.Alerts().Open(ctx, other); !errors.Is(err, ErrCodeTaken) {
			t.Fatalf("a second K4: %v, want ErrCodeTaken", err)
		}
		g.AckedBy, g.AckedAt, g.Steps, g.Since = "+15551234567@sms.example.test", since.Add(time.Minute), 1, since.Add(time.Hour)
		g.Recipients = append(g.Recipients, "lead@example.test")
		g.RouteID, g.Base = "alert-route", "alert-base"
		g.Answers = []AlertAnswer{{Key: "answer:1", Text: "#K4 acknowledged", Pending: []string{"lead@example.test"}}}
		if err := s.Alerts().Save(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := s.Alerts().Note(ctx, "alert-abc", "K4"); err != nil {
			t.Fatal(err)
		}
		gs, err := s.Alerts().Groups(ctx)
		if err != nil || len(gs) != 1 {
			t.Fatalf("groups: %v %v", gs, err)
		}
		if !reflect.DeepEqual(gs[0], g) {
			t.Errorf("stored\n%+v\nwant\n%+v", gs[0], g)
		}
		if code, ok, err := s.Alerts().NoteCode(ctx, "alert-abc"); err != nil || !ok || code != "K4" {
			t.Errorf("note: %q %v %v", code, ok, err)
		}
		if err := s.Alerts().Close(ctx, g.Key); err != nil {
			t.Fatal(err)
		}
		if gs, err := s.Alerts().Groups(ctx); err != nil || len(gs) != 0 {
			t.Errorf("after close: %v %v", gs, err)
		}
		if code, ok, err := s.Alerts().NoteCode(ctx, "alert-abc"); err != nil || !ok || code != "" {
			t.Errorf("a closed group's note: %q %v %v, want \"\" true", code, ok, err)
		}
		if err := s.Alerts().Open(ctx, other); err != nil {
			t.Errorf("K4 again once free: %v", err)
		}
	})
}

// A group not heard of since the cutoff is pruned, with its notes; one
// saved since is kept.
func TestAlertGroupsPruned(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		old := AlertGroup{Key: "alert-old", Code: "AB", Labels: map[string]string{}, Since: time.UnixMilli(1)}
		if err := s.Alerts().Open(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := s.Alerts().Note(ctx, "n-old", "AB"); err != nil {
			t.Fatal(err)
		}
		cutoff := time.Now().Add(time.Second)
		young := AlertGroup{Key: "alert-young", Code: "CD", Labels: map[string]string{}, Since: time.UnixMilli(1)}
		s.now = func() time.Time { return cutoff.Add(time.Minute) }
		if err := s.Alerts().Open(ctx, young); err != nil {
			t.Fatal(err)
		}
		if err := s.Prune(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		gs, err := s.Alerts().Groups(ctx)
		if err != nil || len(gs) != 1 || gs[0].Code != "CD" {
			t.Errorf("after pruning: %v %v", gs, err)
		}
		if _, ok, err := s.Alerts().NoteCode(ctx, "n-old"); err != nil || ok {
			t.Errorf("a pruned group's note: %v %v", ok, err)
		}
	})
}

// A closed group's notes are kept with no code until Prune's cutoff passes
// their closing.
func TestAlertNotesOfClosedGroupPruned(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		closed := time.UnixMilli(1_700_000_000_000)
		s.now = func() time.Time { return closed }
		g := AlertGroup{Key: "alert-g", Code: "AB", Labels: map[string]string{}, Since: closed}
		if err := s.Alerts().Open(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := s.Alerts().Note(ctx, "n-1", "AB"); err != nil {
			t.Fatal(err)
		}
		if err := s.Alerts().Close(ctx, g.Key); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			cutoff time.Time
			ok     bool
		}{{closed, true}, {closed.Add(time.Millisecond), false}} {
			if err := s.Prune(ctx, tt.cutoff); err != nil {
				t.Fatal(err)
			}
			if code, ok, err := s.Alerts().NoteCode(ctx, "n-1"); err != nil || ok != tt.ok || code != "" {
				t.Errorf("pruned before %v: %q %v %v, want ok=%v", tt.cutoff, code, ok, err, tt.ok)
			}
		}
	})
}

// A closed group's key, code, route and recipients are kept for 20
// minutes from its closing (Closed, the last closed first), then
// forgotten: by the next Close, or by Prune.
func TestAlertGroupsClosedKept(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		t0 := time.UnixMilli(1_700_000_000_000)
		now := t0
		s.now = func() time.Time { return now }
		g := AlertGroup{Key: "alert-g", Code: "AB", Route: 1, RouteID: "alert-route", Base: "alert-base", Labels: map[string]string{},
			Recipients: []string{"bob@example.test", "+15551234567@sms.example.test"}, Since: t0}
		h := AlertGroup{Key: "alert-h", Code: "CD", RouteID: "explicit", Base: "alert-base", Labels: map[string]string{}, Since: t0}
		for _, x := range []AlertGroup{g, h} {
			if err := s.Alerts().Open(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		closed := func() []AlertGroup {
			t.Helper()
			gs, err := s.Alerts().Closed(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return gs
		}
		if gs := closed(); len(gs) != 0 {
			t.Errorf("closed before any Close: %+v", gs)
		}
		if err := s.Alerts().Close(ctx, g.Key); err != nil {
			t.Fatal(err)
		}
		now = t0.Add(time.Minute)
		if err := s.Alerts().Close(ctx, h.Key); err != nil {
			t.Fatal(err)
		}
		kept := func(x AlertGroup) AlertGroup {
			return AlertGroup{Key: x.Key, Code: x.Code, Route: x.Route, RouteID: x.RouteID, Base: x.Base, Recipients: x.Recipients}
		}
		for _, c := range []struct {
			at   time.Time
			want []AlertGroup
		}{
			{t0.Add(time.Minute), []AlertGroup{kept(h), kept(g)}},
			{t0.Add(20 * time.Minute), []AlertGroup{kept(h), kept(g)}},
			{t0.Add(20*time.Minute + time.Millisecond), []AlertGroup{kept(h)}},
			{t0.Add(21*time.Minute + time.Millisecond), nil},
		} {
			now = c.at
			if gs := closed(); !reflect.DeepEqual(gs, c.want) {
				t.Errorf("closed at %v:\n%+v\nwant\n%+v", c.at.Sub(t0), gs, c.want)
			}
		}
		rows := func() int {
			t.Helper()
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM alert_closed").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := rows(); n != 2 {
			t.Fatalf("%d closed groups stored before any pruning, want 2", n)
		}
		// The next Close forgets g (closed over 20 minutes ago), not h.
		now = t0.Add(20*time.Minute + time.Millisecond)
		i := AlertGroup{Key: "alert-i", Code: "AB", Labels: map[string]string{}, Since: now}
		if err := s.Alerts().Open(ctx, i); err != nil {
			t.Fatal(err)
		}
		if err := s.Alerts().Close(ctx, i.Key); err != nil {
			t.Fatal(err)
		}
		if n := rows(); n != 2 {
			t.Errorf("%d closed groups stored after the next Close, want h and i", n)
		}
		now = t0.Add(41 * time.Minute)
		if err := s.Prune(ctx, t0); err != nil {
			t.Fatal(err)
		}
		if n := rows(); n != 0 {
			t.Errorf("%d closed groups stored after Prune, want none", n)
		}
	})
}
