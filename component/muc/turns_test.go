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

// stepWriter is a step's writer (core.Held): it holds what is written
// until it is written out (writeOut).
type stepWriter struct {
	routertest.Writer
	held  []any
	after []func(router.Writer)
}

func (w *stepWriter) Encode(v any)                       { w.held = append(w.held, v) }
func (w *stepWriter) AfterWritten(f func(router.Writer)) { w.after = append(w.after, f) }

func (w *stepWriter) writeOut() {
	for _, v := range w.held {
		w.Writer.Encode(v)
	}
	for _, f := range w.after {
		f(&w.Writer)
	}
}

// A join's step (takeAnswered) lets the next taker of its key go once
// its work returns, while its answers are still held (behind the user's
// slower steps): the read loop never waits for them. What must follow
// them (a message's reflection, held by answering's answers) is held until
// they are written, then written right after them; after that, nothing is
// held (its sender writes it another way).
func TestTurnAnswersFollowed(t *testing.T) {
	const (
		join       = `<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
		self       = `<presence from="+15550003333@tg.example.test/al" to="alice@example.test/pc"></presence>`
		reflection = `<message type="groupchat" id="u1" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><body>on it</body></message>`
	)
	var ts turns
	u := ts.takeAnswered("k", "+15550003333@tg.example.test")
	var w stepWriter
	u.run(context.Background(), &w, routertest.Stanza(t, join, router.Room), func(_ context.Context, w router.Writer) error {
		w.Encode(stanza.Presence{From: "+15550003333@tg.example.test/al", To: "alice@example.test/pc"})
		return nil
	})
	if ts.busy("k") {
		t.Fatal("the next taker waits for the join's answers to be written, not only its work")
	}
	prev := ts.answering("k")
	if prev == nil {
		t.Fatal("no answers to follow while the join's are not written")
	}
	if !prev.hold(stanza.Message{Type: "groupchat", ID: "u1", From: "+15550003333@tg.example.test/al", To: "alice@example.test/pc", Body: "on it"}) {
		t.Fatal("not held before the join's answers are written")
	}
	if w.Writer.String() != "" {
		t.Fatalf("written before the join's answers: %q", w.Writer.String())
	}
	w.writeOut()
	if got := w.Writer.String(); got != self+reflection {
		t.Errorf("written with the join's answers\n%s\nwant\n%s", got, self+reflection)
	}
	if prev.hold(stanza.Message{Type: "groupchat", ID: "u2", From: "+15550003333@tg.example.test/al", To: "alice@example.test/pc", Body: "and this"}) {
		t.Error("held once the answers are written")
	}
	if ts.answering("k") != nil {
		t.Error("answers kept once written")
	}
}
