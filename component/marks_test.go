package component

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/transports"
)

// A roster push queued (or sent) before a restart is answered after it:
// the mark in its id is made with the key the store keeps, so the
// gateway that starts next acts on the answer from the push's user, and
// on nobody else's.
func TestRosterPushAnswerAfterRestart(t *testing.T) {
	ctx := context.Background()
	g, tr, store := linkedGateway(t)
	handle(t, g, grantRoster)
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(
		handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body>link</body></message>`))
	if _, err := g.Redeem(ctx, "+15550003333", "Ops", code[1]); err != nil {
		t.Fatal(err)
	}
	id := pushID(t, queuedFor(t, store, "tg"))

	next := New(Options{Transport: tr, Identity: transports.Identity{Gateway: "telegram", Name: "Telegram"}, Store: store,
		Conn: &conn.Conn{Domain: jid.MustParse("tg.example.test")}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed: func(b string) bool { return strings.HasSuffix(b, "@example.test") }})
	if err := next.loadMarkKey(ctx); err != nil {
		t.Fatal(err)
	}
	refused := func(from string) string {
		return `<iq type="error" id="` + id + `" from="` + from + `" to="tg.example.test"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	}
	handle(t, next, refused("mallory@evil.test"))
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued for a stranger's answer: %s", q[0].Stanza)
	}
	handle(t, next, refused("bob@example.test"))
	want := `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("fallback queued\n%s\nwant\n%s", got, want)
	}
}
