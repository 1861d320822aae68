package component

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// heldMemberRooms is roomLinked whose rooms are the user's own groups
// (transports.MemberRooms): the membership check of group +155500033300
// waits for hold to be closed.
type heldMemberRooms struct {
	roomLinked
	hold chan struct{}
}

func (m heldMemberRooms) Member(ctx context.Context, _ string, group transports.Addr) (string, bool, error) {
	if group == "+155500033300" {
		select {
		case <-m.hold:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	return "Group " + string(group), true, nil
}

// Alice joins room A, whose membership check is slow, then room B, and
// writes to B. B's join is done first, but its answers go after A's (a
// user's answers keep the order of the user's stanzas); her message to B
// waits for them: she gets its reflection after her self-presence in B,
// never before (XEP-0045 clients take nothing from a room before it).
func TestRoomReflectionAfterSelfPresence(t *testing.T) {
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := heldMemberRooms{roomLinked: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}, hold: make(chan struct{})}
	var logs syncLog
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	if err := store.Links().ImportLinks(context.Background(), "tg",
		[]mapping.Link{{Remote: "+155500033301", User: "alice@example.test", Name: "B"}}); err != nil {
		t.Fatal(err)
	}
	read := sessionWritten(t, g)
	startIntake(t, g)
	out := feed(t, g, []string{
		`<presence from="alice@example.test/pc" to="+155500033300@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<presence from="alice@example.test/pc" to="+155500033301@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<message type="groupchat" id="u1" from="alice@example.test/pc" to="+155500033301@tg.example.test"><body>on it</body></message>`,
	})
	if out != "" {
		t.Fatalf("answered on the read loop: %s", out)
	}
	eventually(t, "B joined", func() bool {
		return strings.Contains(logs.String(), `"user joined a room" transport=tg room=+155500033301`)
	})
	time.Sleep(100 * time.Millisecond) // room for the message to pass (the defect)
	close(tr.hold)
	const want = `<presence from="+155500033300@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
		`<message type="groupchat" from="+155500033300@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033300</subject></message>` +
		`<presence from="+155500033301@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
		`<message type="groupchat" from="+155500033301@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033301</subject></message>` +
		`<message type="groupchat" id="u1" from="+155500033301@tg.example.test/al" to="alice@example.test/pc"><body>on it</body></message>`
	stamped := regexp.MustCompile(` id="[0-9a-f]{16}"`)
	var got string
	eventually(t, "every answer written", func() bool {
		got = stamped.ReplaceAllString(read(), "")
		return strings.Count(got, "<presence") == 2 && strings.Count(got, "</message>") == 3
	})
	if got != want {
		t.Errorf("written\n%s\nwant\n%s", got, want)
	}
}
