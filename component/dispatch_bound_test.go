package component

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// In a backlog the lanes hold few jobs: a contact whose sends keep failing
// holds only its lane's share, so the others go on, and the dispatcher stops
// reading while the lanes are full. Every message is sent once, in order.
func TestDispatchBoundsLanes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, tr, store := testGateway(t)
	g.backoff = func(int) time.Duration { return time.Millisecond }
	g.maxLane, g.maxLanes = 4, 8
	var blockA, blockB atomic.Bool
	blockA.Store(true)
	blockB.Store(true)
	tr.SendFunc = func(out transports.Outbound) (string, error) {
		if out.To == "+15550000001" && blockA.Load() || out.To == "+15550000002" && blockB.Load() {
			return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "try again"}
		}
		return "id-" + out.Body, nil
	}
	enqueue := func(to, prefix string, n int) {
		for i := range n {
			body := fmt.Sprintf("%s%d", prefix, i)
			if _, _, err := store.Jobs().Enqueue(ctx, mapping.Job{Transport: "sms", Sender: "alice@example.test/a",
				Account: "+15550001111", Remote: to, Body: body, StanzaID: body}); err != nil {
				t.Fatal(err)
			}
		}
	}
	enqueue("+15550000001", "a", 20) // A: 4 in its lane, 16 only stored
	enqueue("+15550000002", "b", 3)  // B: 3, blocked too: 7 in the lanes
	enqueue("+15550000003", "c", 3)  // C: 1 fits; then the lanes are full
	lane := func(to string) (jobs, stored, all int) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if l := g.lanes["+15550001111\x00"+to]; l != nil {
			jobs, stored = len(l.jobs), len(l.stored)
		}
		return jobs, stored, g.inLanes
	}
	go g.dispatchLoop(ctx)

	// C's first is sent; the dispatcher waits for room, with C's other two
	// still unread.
	if _, err := tr.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a dispatcher that did not wait would send C's others now
	if got := bodies(tr.Sent()); got != "c0" {
		t.Fatalf("sent %q while A and B fail, want c0 alone (the lanes are full)", got)
	}
	if jobs, stored, all := lane("+15550000001"); jobs != 4 || stored != 16 || all != 7 {
		t.Errorf("lane A holds %d jobs and %d stored ids, the lanes %d; want 4, 16 and 7", jobs, stored, all)
	}

	// B goes through: the lanes are down to half, and C's others are read
	// and sent, while A still fails.
	blockB.Store(false)
	if _, err := tr.Wait(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if b, c := to(tr.Sent(), "+15550000002"), to(tr.Sent(), "+15550000003"); b != "b0 b1 b2" || c != "c0 c1 c2" {
		t.Fatalf("sent %q to B and %q to C, want b0 b1 b2 and c0 c1 c2", b, c)
	}
	if jobs, stored, _ := lane("+15550000001"); jobs != 4 || stored != 16 {
		t.Errorf("lane A holds %d jobs and %d stored ids, want 4 and 16", jobs, stored)
	}

	// A's 20 follow, in order, each once, read back from the store.
	blockA.Store(false)
	sent, err := tr.Wait(ctx, 26)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("a%d", i)
	}
	if a := to(sent, "+15550000001"); a != strings.Join(want, " ") {
		t.Errorf("A's messages sent as %q, want %q", a, strings.Join(want, " "))
	}
	for ctx.Err() == nil {
		if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a duplicate would be sent by now
	if n := len(tr.Sent()); n != 26 {
		t.Errorf("%d sends, want 26", n)
	}
	if _, _, all := lane("+15550000001"); all != 0 {
		t.Errorf("the lanes hold %d jobs at the end", all)
	}
}

// Of a lane's backlog past its jobs only the ids are held, and at most
// maxStored of them in all: past that the dispatcher stops reading, so
// memory does not grow with one contact's backlog. Every message is still
// sent once, in order.
func TestDispatchBoundsStoredIDs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, tr, store := testGateway(t)
	g.backoff = func(int) time.Duration { return time.Millisecond }
	g.maxLane, g.maxLanes, g.maxStored = 4, 100, 6
	var blockA atomic.Bool
	blockA.Store(true)
	tr.SendFunc = func(out transports.Outbound) (string, error) {
		if out.To == "+15550000001" && blockA.Load() {
			return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "try again"}
		}
		return "id-" + out.Body, nil
	}
	for _, m := range []struct {
		to, prefix string
		n          int
	}{{"+15550000001", "a", 20}, {"+15550000003", "c", 2}} {
		for i := range m.n {
			body := fmt.Sprintf("%s%d", m.prefix, i)
			if _, _, err := store.Jobs().Enqueue(ctx, mapping.Job{Transport: "sms", Sender: "alice@example.test/a",
				Account: "+15550001111", Remote: m.to, Body: body, StanzaID: body}); err != nil {
				t.Fatal(err)
			}
		}
	}
	go g.dispatchLoop(ctx)

	held := func() (jobs, stored, ids int) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if l := g.lanes["+15550001111\x00+15550000001"]; l != nil {
			jobs, stored = len(l.jobs), len(l.stored)
		}
		return jobs, stored, g.storedIDs
	}
	eventually(t, "lane A holding 4 jobs and 6 ids", func() bool {
		jobs, stored, ids := held()
		return jobs == 4 && stored == 6 && ids == 6
	})
	time.Sleep(50 * time.Millisecond) // a dispatcher that did not stop would read on, and send C's
	if jobs, stored, _ := held(); len(tr.Sent()) != 0 || jobs != 4 || stored != 6 {
		t.Fatalf("sent %q, lane A holds %d jobs and %d ids; want nothing sent, and 4 and 6", bodies(tr.Sent()), jobs, stored)
	}

	blockA.Store(false)
	sent, err := tr.Wait(ctx, 22)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("a%d", i)
	}
	if a, c := to(sent, "+15550000001"), to(sent, "+15550000003"); a != strings.Join(want, " ") || c != "c0 c1" {
		t.Errorf("sent %q to A and %q to C, want %q and c0 c1", a, c, strings.Join(want, " "))
	}
	eventually(t, "no ids held", func() bool { _, _, ids := held(); return ids == 0 })
}

// bodies lists the bodies sent, in order.
func bodies(out []transports.Outbound) string {
	var b []string
	for _, o := range out {
		b = append(b, o.Body)
	}
	return strings.Join(b, " ")
}

// to lists the bodies sent to a number, in order.
func to(out []transports.Outbound, number string) string {
	var b []string
	for _, o := range out {
		if string(o.To) == number {
			b = append(b, o.Body)
		}
	}
	return strings.Join(b, " ")
}
