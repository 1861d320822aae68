package component

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Shutdown begins (the gateway's lifetime ends, while the read loop and
// the intake go on until the writer is done) while a join of the user's
// is in flight: the stanzas of the user's that wait for it are still
// answered, in order, and a message among them is stored, not dropped.
func TestRoomStanzasWaitingAtShutdown(t *testing.T) {
	const (
		join  = `<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
		msg   = `<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`
		leave = `<presence type="unavailable" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"/>`
	)
	// The join's answers, then those of the stanzas that waited for it.
	const joined = `<presence from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
		`<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/pc"><subject>Ops team</subject></message>`
	cases := []struct {
		name    string
		in      []string
		written string // to the session, in order (the ids it stamps left out)
		jobs    []string
	}{
		0: {name: "a message waits for the join", in: []string{join, msg},
			written: joined + `<message type="groupchat" id="u1" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><body>on it</body></message>`,
			jobs:    []string{"on it"}},
		1: {name: "a leave, then a message, wait for the join", in: []string{join, leave, msg},
			written: joined + `<presence type="unavailable" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="none" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
				`<message type="error" id="u1" from="+15550003333@tg.example.test" to="alice@example.test/pc"><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></not-acceptable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">join the room before writing to it</text></error></message>`},
	}
	stamped := regexp.MustCompile(` id="[0-9a-f]{16}"`)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, read, path := burstRoomsAt(t, 0)
			life, stop := context.WithCancel(context.Background())
			defer stop()
			g.life.Store(&life)                      // as Run does
			holdStore(t, path, 200*time.Millisecond) // the join's nick commit waits a moment
			if out := feed(t, g, tc.in); out != "" {
				t.Fatalf("%d: answered on the read loop: %s", i, out)
			}
			stop() // SIGTERM, with the join in flight
			eventually(t, "the steps done", func() bool { return laterSteps(g) == 0 })
			eventually(t, "the answers written", func() bool { return g.in.pending.Load() == 0 })
			if got := stamped.ReplaceAllString(read(), ""); got != tc.written {
				t.Errorf("%d: written\n%s\nwant\n%s", i, got, tc.written)
			}
			jobs, err := g.o.Store.Jobs().Pending(context.Background(), "tg", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, j := range jobs {
				bodies = append(bodies, j.Body)
			}
			if strings.Join(bodies, "|") != strings.Join(tc.jobs, "|") {
				t.Errorf("%d: stored %q, want %q", i, bodies, tc.jobs)
			}
		})
	}
}
