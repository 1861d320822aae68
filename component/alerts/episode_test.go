package alerts

import (
	"context"
	"reflect"
	"testing"
)

// An alert that fires, resolves and fires again opens a new group each
// time, with a new random code, which may be one an earlier episode had:
// that episode's page and resolved notice then have the same texts as the
// earlier's, and must be delivered all the same, while a retry of one
// notification stays a duplicate: the page's, and the resolved notice's,
// which comes after its group closed. The test flaps until a code comes
// back (961 codes: certain long before 300 episodes).
func TestFlappingAlertEpisodesAllDelivered(t *testing.T) {
	e := newDeskEnv(t)
	seen := map[string]int{} // code -> episode
	for ep := 1; ep <= 300; ep++ {
		got := e.notify("firing:db-1")
		code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
		if got != `{"queued":3,"duplicates":0}` {
			t.Fatalf("episode %d (code %s, episode %d's too) fires: %s", ep, code, seen[code], got)
		}
		if got := e.notify("firing:db-1"); got != `{"queued":0,"duplicates":3}` {
			t.Fatalf("episode %d: Alertmanager's retry of its page: %s", ep, got)
		}
		if got := e.notify("resolved:db-1"); got != `{"queued":3,"duplicates":0}` {
			t.Fatalf("episode %d (code %s, episode %d's too) resolves: %s", ep, code, seen[code], got)
		}
		e.q.take()
		if got := e.notify("resolved:db-1"); got != `{"queued":0,"duplicates":3}` {
			t.Fatalf("episode %d: Alertmanager's retry of its resolved notice: %s", ep, got)
		}
		e.q.take()
		if first, ok := seen[code]; ok {
			t.Logf("episode %d drew episode %d's code %s, and was delivered", ep, first, code)
			return
		}
		seen[code] = ep
	}
	t.Fatal("no code came back in 300 episodes")
}

// Alertmanager retries a resolved notification whose first delivery was
// queued for everyone, and closed its group (its answer lost, or too slow
// for Alertmanager's timeout): the retry finds no open group, but the one
// it closed, and is delivered as the first was, to the same recipients
// with the same ids and texts (the code included), which the queues take
// for a retry: nobody is told twice.
func TestResolvedRetryAfterTheGroupClosed(t *testing.T) {
	e := newDeskEnv(t)
	if got := e.notify("firing:db-1"); got != `{"queued":3,"duplicates":0}` {
		t.Fatalf("fires: %s", got)
	}
	e.q.take()
	if got := e.notify("resolved:db-1"); got != `{"queued":3,"duplicates":0}` {
		t.Fatalf("resolves: %s", got)
	}
	first := e.q.take()
	if gs, err := e.h.desk.book.Groups(context.Background()); err != nil || len(gs) != 0 {
		t.Fatalf("open after its resolution was queued: %+v %v", gs, err)
	}
	if got := e.notify("resolved:db-1"); got != `{"queued":0,"duplicates":3}` {
		t.Errorf("Alertmanager's retry of the resolved notice: %s", got)
	}
	again := e.q.take()
	for i := range again {
		again[i].duplicated = false
	}
	if !reflect.DeepEqual(again, first) {
		t.Errorf("the retry was delivered as\n%+v\nwant it as the first\n%+v", again, first)
	}
}
