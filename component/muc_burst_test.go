package component

import (
	"context"
	"database/sql"
	"fmt"
	"io"
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

// burstRooms is roomGateway with n more groups linked to alice, running
// (intake started, a session attached), and what the session was written.
func burstRooms(t *testing.T, n int) (*Gateway, func() string) {
	g, read, _ := burstRoomsAt(t, n)
	return g, read
}

// burstRoomsAt is burstRooms, and returns the path of its SQLite file.
func burstRoomsAt(t *testing.T, n int) (*Gateway, func() string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gw.db")
	store, err := mapping.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g := New(Options{
		Transport: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}},
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	links := []mapping.Link{{Remote: "+15550003333", User: "alice@example.test", Name: "Ops team"}}
	for i := range n {
		links = append(links, mapping.Link{Remote: fmt.Sprintf("+1555000333%02d", i), User: "alice@example.test", Name: fmt.Sprint("g", i)})
	}
	if err := store.Links().ImportLinks(context.Background(), "tg", links); err != nil {
		t.Fatal(err)
	}
	read := sessionWritten(t, g)
	startIntake(t, g)
	return g, read, path
}

// holdStore holds the SQLite file's write lock from another connection
// for d: the store is busy for a moment (a checkpoint, a big commit).
func holdStore(t *testing.T, path string, d time.Duration) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(d, func() { c.ExecContext(context.Background(), "ROLLBACK"); c.Close() })
}

// joinN is alice's join of group i of burstRooms.
func joinN(i int, typ string) string {
	return fmt.Sprintf(`<presence %sfrom="alice@example.test/pc" to="+1555000333%02d@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`, typ, i)
}

// A client that autojoins more than laterPerUser rooms at sign-in (its
// bookmarks: a burst of join presences) joins them all: presences wait
// for their turn, never refused for being too many (Await).
func TestJoinsInABurst(t *testing.T) {
	const rooms = 40
	g, read := burstRooms(t, rooms)
	var joins []string
	for i := range rooms {
		joins = append(joins, joinN(i, ""))
	}
	out := feed(t, g, joins)
	eventually(t, "every join answered", func() bool {
		all := read() + out
		return strings.Count(all, `<status code="110">`)+strings.Count(all, `type="error"`) >= rooms
	})
	all := read() + out
	if n := strings.Count(all, "<resource-constraint"); n != 0 {
		t.Errorf("%d of %d joins refused with resource-constraint; %d joined", n, rooms, strings.Count(all, `<status code="110">`))
	}
}

// The client goes offline: its server sends an unavailable presence to
// every room it is in, at once (here right after one more join, whose
// nick commit waits for a busy store: the leaves queue behind it). Every
// leave is taken: the group's messages no longer go to the gone client.
func TestLeavesInABurst(t *testing.T) {
	const rooms = 40
	g, read, path := burstRoomsAt(t, rooms+1)
	joined := ""
	for i := range rooms { // joined one at a time
		joined += feed(t, g, []string{joinN(i, "")})
		eventually(t, "joined", func() bool { return strings.Count(read()+joined, `<status code="110">`) == i+1 })
	}
	// One more join, whose nick commit waits a moment for a busy store;
	// then the client goes offline.
	holdStore(t, path, 300*time.Millisecond)
	leaves := []string{joinN(rooms, "")}
	for i := range rooms {
		leaves = append(leaves, fmt.Sprintf(`<presence type="unavailable" from="alice@example.test/pc" to="+1555000333%02d@tg.example.test/al"/>`, i))
	}
	out := feed(t, g, leaves)
	eventually(t, "every leave answered", func() bool {
		all := read() + out
		return strings.Count(all, `type="unavailable"`)+strings.Count(all, `<resource-constraint`) >= rooms
	})
	// A member of each group writes: who still gets it as an occupant?
	still := 0
	for i := range rooms {
		in := transports.Inbound{From: transports.Addr(fmt.Sprintf("+1555000333%02d", i)), ID: fmt.Sprint("n", i), Body: "hi", Group: true, Sender: "Bob"}
		if err := g.Deliver(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	q, err := g.o.Store.ToXMPP().Pending(context.Background(), "tg", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range q {
		if strings.Contains(string(st.Stanza), `type="groupchat"`) && strings.Contains(string(st.Stanza), `to="alice@example.test/pc"`) {
			still++
		}
	}
	if still != 0 || strings.Contains(read()+out, "<resource-constraint") {
		t.Errorf("after leaving %d rooms at once, still an occupant of %d (leaves refused: %d)", rooms, still, strings.Count(read()+out, "<resource-constraint"))
	}
}

// A client (or a bot library: slixmpp's join_muc, then send_message)
// that writes to the room right after its join, without waiting for its
// self-presence: the message waits for the join, which runs off the read
// loop, and is relayed.
func TestMessageRightAfterJoin(t *testing.T) {
	g, read := burstRooms(t, 0)
	out := feed(t, g, []string{
		`<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`,
	})
	eventually(t, "the join answered", func() bool { return strings.Contains(read()+out, `<status code="110">`) })
	if all := read() + out; strings.Contains(all, `type="error"`) {
		t.Fatalf("the message sent right after the join was refused:\n%s", all[strings.Index(all, `<message type="error"`):])
	}
	eventually(t, "the message queued for the group", func() bool {
		jobs, err := g.o.Store.Jobs().Pending(context.Background(), "tg", 0, 10)
		return err == nil && len(jobs) == 1 && jobs[0].Remote == "+15550003333" && jobs[0].Body == "on it"
	})
}

// A member of a team inbox writes to it right after her join, as to a
// group (TestMessageRightAfterJoin): the message waits for the join (whose
// nick commit waits a moment for a busy store), is relayed from the
// inbox's number, and its reflection comes after her self-presence.
func TestInboxMessageRightAfterJoin(t *testing.T) {
	g, store, path := inboxGatewayAt(t)
	read := sessionWritten(t, g)
	startIntake(t, g)
	holdStore(t, path, 200*time.Millisecond)
	if out := feed(t, g, []string{
		`<presence from="alice@example.test/pc" to="oncall@sms.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<message type="groupchat" id="u1" from="alice@example.test/pc" to="oncall@sms.example.test"><body>+15557654321: on it</body></message>`,
	}); out != "" {
		t.Errorf("answered on the read loop:\n%s", out)
	}
	const want = `<presence from="oncall@sms.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
		`<message type="groupchat" from="oncall@sms.example.test" to="alice@example.test/pc"><subject>Team inbox +15550009999</subject></message>` +
		`<message type="groupchat" id="u1" from="oncall@sms.example.test/al" to="alice@example.test/pc"><body>to +15557654321: on it</body><stanza-id xmlns="urn:xmpp:sid:0" id="u1" by="oncall@sms.example.test"></stanza-id></message>`
	eventually(t, "every answer written", func() bool { return laterSteps(g) == 0 && g.in.pending.Load() == 0 })
	if got := regexp.MustCompile(` id="[0-9a-f]{16}"`).ReplaceAllString(read(), ""); got != want {
		t.Errorf("written\n%s\nwant\n%s", got, want)
	}
	jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Account != "+15550009999" || jobs[0].Remote != "+15557654321" || jobs[0].Body != "on it" {
		t.Errorf("stored %+v, want one job from +15550009999 to +15557654321: on it", jobs)
	}
}
