package transports

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// waitLoad waits (bounded) until m has serving slots taken and waiting
// GETs waiting, and fails the test if it never has.
func waitLoad(t *testing.T, m *MediaSlots, serving, waiting int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, w := m.Load()
		if s == serving && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d slots taken and %d waiting; want %d and %d", s, w, serving, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMediaSlotsWait: a GET past a bound (the handler's, or
// MediaPerURL of one URL) waits, and takes the slot the next GET to end
// gives back (one of its URL, for the per-URL bound). One whose client
// goes away, or that waits past MediaWait, gives up and holds no slot.
func TestMediaSlotsWait(t *testing.T) {
	for i, c := range []struct {
		held    []string // keys whose slots are taken first
		key     string   // the GET that must wait
		other   string   // a GET that does not wait meanwhile ("" none)
		release string   // the key whose slot, given back, lets it in
	}{
		0: {held: []string{"a", "b", "c"}, key: "d", release: "b"},
		1: {held: []string{"a", "a"}, key: "a", other: "b", release: "a"},
	} {
		const limit = 3
		var m MediaSlots
		for _, k := range c.held {
			if !m.Acquire(context.Background(), limit, k) {
				t.Fatalf("%d: no slot for %q", i, k)
			}
		}
		got := make(chan bool)
		go func() { got <- m.Acquire(context.Background(), limit, c.key) }()
		waitLoad(t, &m, len(c.held), 1)
		if c.other != "" {
			if !m.Acquire(context.Background(), limit, c.other) {
				t.Fatalf("%d: %q waited for %q's slot", i, c.other, c.key)
			}
			m.Release(c.other)
		}
		m.Release(c.release)
		if !<-got {
			t.Errorf("%d: the waiting GET gave up", i)
		}
		waitLoad(t, &m, len(c.held), 0)
	}

	// Given up: the client went away, or no slot came in time.
	var m MediaSlots
	m.Acquire(context.Background(), 1, "a")
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan bool)
	go func() { got <- m.Acquire(ctx, 1, "b") }()
	waitLoad(t, &m, 1, 1)
	cancel()
	if <-got {
		t.Error("a GET whose client went away took a slot")
	}
	m.wait = time.Millisecond
	if m.Acquire(context.Background(), 1, "c") {
		t.Error("a GET took a slot none gave back")
	}
	waitLoad(t, &m, 1, 0)
	m.Release("a")
	waitLoad(t, &m, 0, 0)
}

// TestMediaBusy: a GET that found no slot in time is answered 503 with
// Retry-After: 1 and the media headers (nothing served there runs as a
// page).
func TestMediaBusy(t *testing.T) {
	w := httptest.NewRecorder()
	MediaBusy(w, "busy")
	h := w.Header()
	if w.Code != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" || w.Body.String() != "busy\n" {
		t.Errorf("%d %v %q", w.Code, h, w.Body.String())
	}
}
