package muc

import (
	"context"
	"testing"
	"time"

	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/component/stanza"
)

// A step of a stanza read (turn.run) answers it at shutdown (the turns'
// lifetime ended) too: its work runs once the steps before are done, on a
// context that shutdown does not cancel; if they are not done in time, the
// stanza is refused.
func TestTurnAtShutdown(t *testing.T) {
	defer func(d time.Duration) { turnAtShutdown = d }(turnAtShutdown)
	turnAtShutdown = 20 * time.Millisecond
	const msg = `<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`
	cases := []struct {
		name      string
		ended     bool // the gateway's lifetime has ended (shutdown)
		stuck     bool // the step before never ends
		err       error
		ran, live bool // f ran; its context had not ended
		written   string
	}{
		0: {name: "running", ran: true, live: true},
		1: {name: "shutting down, the step before done", ended: true, ran: true, live: true},
		2: {name: "shutting down, the step before stuck", ended: true, stuck: true,
			written: refusal("message", "u1", ops, pc, "wait", "resource-constraint", "the gateway is shutting down; send it again shortly")},
		3: {name: "shutting down, f refuses", ended: true, ran: true, live: true, err: stanza.NewError("modify", "not-acceptable", "join the room before writing to it"),
			written: refusal("message", "u1", ops, pc, "modify", "not-acceptable", "join the room before writing to it")},
	}
	for i, tc := range cases {
		// Both ready when the step looks (the step before done, and the
		// lifetime ended): it must take its turn every time.
		n := 50
		if tc.stuck {
			n = 1
		}
		for range n {
			life, cancel := context.WithCancel(context.Background())
			ts := turns{life: func() context.Context { return life }}
			before, u := ts.take("k"), ts.take("k")
			if !tc.stuck {
				before.done()
			}
			if tc.ended {
				cancel()
			}
			var w routertest.Writer
			ran, live := false, false
			u.run(context.Background(), &w, routertest.Stanza(t, msg, router.Room), func(ctx context.Context, _ router.Writer) error {
				ran, live = true, ctx.Err() == nil
				return tc.err
			})
			cancel()
			if ran != tc.ran || live != tc.live || w.String() != tc.written {
				t.Fatalf("%d %s: ran %v (live %v), wrote\n%s\nwant ran %v (live %v), wrote\n%s", i, tc.name, ran, live, w.String(), tc.ran, tc.live, tc.written)
			}
			if ts.busy("k") {
				t.Fatalf("%d %s: the next step of k still waits", i, tc.name)
			}
		}
	}
}

// stepWriter is a step's writer (core.HandOver): it holds what is written
// until handOver.
type stepWriter struct {
	routertest.Writer
	held  []any
	after []func()
}

func (w *stepWriter) Encode(v any)           { w.held = append(w.held, v) }
func (w *stepWriter) AfterHandOver(f func()) { w.after = append(w.after, f) }

func (w *stepWriter) handOver() {
	for _, v := range w.held {
		w.Writer.Encode(v)
	}
	for _, f := range w.after {
		f()
	}
}

// With a step's writer, whose answers are held until the step ends, the
// next taker of the key goes once they are handed over, not when the
// work returns: its answers (a message's reflection) then come after
// these (the join's self-presence).
func TestTurnEndsAtHandOver(t *testing.T) {
	const msg = `<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`
	var ts turns
	u := ts.take("k")
	var w stepWriter
	u.run(context.Background(), &w, routertest.Stanza(t, msg, router.Room), func(context.Context, router.Writer) error {
		return stanza.NewError("modify", "not-acceptable", "join the room before writing to it")
	})
	if !ts.busy("k") || w.String() != "" {
		t.Fatalf("the next taker goes before the answers are handed over (written %q)", w.String())
	}
	w.handOver()
	if want := refusal("message", "u1", ops, pc, "modify", "not-acceptable", "join the room before writing to it"); ts.busy("k") || w.String() != want {
		t.Errorf("after the hand-over: busy %v, written\n%s\nwant\n%s", ts.busy("k"), w.String(), want)
	}
}
