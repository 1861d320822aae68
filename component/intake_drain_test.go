package component

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"xmppgw/component/router"
)

// Once the read loop has ended (the session is gone for good: Run closes
// it only at shutdown), the intake writes its answers nowhere and waits
// for no session: they are counted and logged, and the intake returns at
// once. It waited intakeReplyFor (5 s) per group for a session that would
// not come, holding up Run's return.
func TestIntakeAnswersAfterTheReadLoop(t *testing.T) {
	cases := []struct {
		name    string
		waiting bool // a group waits for a session as the read loop ends
	}{
		0: {name: "the last commits"},
		1: {name: "a group waiting for a session", waiting: true},
	}
	for i, tc := range cases {
		synctest.Test(t, func(t *testing.T) {
			g, _, _ := testGateway(t) // no session is ever up
			var logs bytes.Buffer
			g.log = slog.New(slog.NewTextHandler(&logs, nil))
			g.in.running.Store(true)
			answer := func(n int) {
				g.submit(&intakeItem{t: discard{}, then: func(_ context.Context, w router.Writer) {
					w.Encode(message{Type: "chat", ID: fmt.Sprint("a", n), From: "+15551234567@sms.example.test", To: "alice@example.test/pc", Body: "ok"})
				}})
			}
			if tc.waiting {
				go g.intakeLoop(context.Background())
				answer(0)
				synctest.Wait() // the intake waits for a session
			} else {
				for n := range 3 {
					answer(n)
				}
			}
			began := time.Now()
			g.stopIntake()
			if !tc.waiting {
				go g.intakeLoop(context.Background())
			}
			synctest.Wait()
			select {
			case <-g.in.stopped:
			default:
				t.Fatalf("%d %s: the intake still waits for a session", i, tc.name)
			}
			want := 3
			if tc.waiting {
				want = 1
			}
			if time.Since(began) != 0 || g.Stats.Unwritten.Load() != int64(want) ||
				!strings.Contains(logs.String(), fmt.Sprintf(`level=WARN msg="answers not written: the XMPP session has ended" stanzas=%d`, want)) {
				t.Errorf("%d %s: after %v, %d counted unwritten, logged %q; want at once, %d and a warning",
					i, tc.name, time.Since(began), g.Stats.Unwritten.Load(), logs.String(), want)
			}
		})
	}
}
