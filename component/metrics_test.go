package component

import (
	"testing"
	"time"
)

// In a backlog nothing is taken and nothing is an hour old: the clock must
// still stay bounded, marking no more past clockMax, and keep the rest
// exact.
func TestClockBoundedInBacklog(t *testing.T) {
	var c clock
	now := time.Now()
	const bound = 100_000
	const n = bound + 2_000
	began := time.Now()
	for i := range n {
		c.mark(int64(i), now.Add(time.Duration(i)))
	}
	t.Logf("%d marks took %v", n, time.Since(began))
	if len(c.start) > bound {
		t.Errorf("the clock holds %d entries after %d marks in a backlog, want at most %d", len(c.start), n, bound)
	}
	if _, ok := c.take(n - 1); ok {
		t.Errorf("a mark past the bound is held")
	}
	for _, k := range []int64{0, n / 2, bound - 1} {
		if at, ok := c.take(k); !ok || !at.Equal(now.Add(time.Duration(k))) {
			t.Errorf("take(%d) = %v, %v; want the time it was marked", k, at, ok)
		}
	}
}

// Marks taken leave room, and a mark older than an hour is dropped.
func TestClockDropsTakenAndHourOld(t *testing.T) {
	var c clock
	now := time.Now()
	c.mark(-1, now.Add(-2*time.Hour))
	for i := range 300_000 {
		c.mark(int64(i), now)
		if _, ok := c.take(int64(i)); !ok {
			t.Fatalf("take(%d): not marked", i)
		}
	}
	if _, ok := c.take(-1); ok {
		t.Errorf("a mark two hours old is still held")
	}
	if len(c.start) != 0 {
		t.Errorf("after every mark was taken the clock holds %d entries", len(c.start))
	}
}

// One message stuck for a while (a retried send, a paced number) while
// the gateway relays 100,000 others, each marked and taken at once: its
// mark is kept (the clock never held more than two).
func TestClockKeepsSlowMarkWithoutBacklog(t *testing.T) {
	var c clock
	now := time.Now()
	c.mark(-1, now) // the slow one
	for i := range clockMax {
		c.mark(int64(i), now.Add(time.Millisecond))
		if _, ok := c.take(int64(i)); !ok {
			t.Fatalf("take(%d): not marked", i)
		}
	}
	if _, ok := c.take(-1); !ok {
		t.Error("the slow message's mark was dropped though at most 2 marks were ever held at once")
	}
}
