package component

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/internal/logbuf"
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

// heldRoomsGateway is a gateway whose rooms are the user's own groups,
// the membership check of +155500033300 held until the returned release
// (called at cleanup too), and which logs to logs.
func heldRoomsGateway(t *testing.T, logs *logbuf.Buffer) (g *Gateway, read func() string, release func()) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := heldMemberRooms{roomLinked: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}, hold: make(chan struct{})}
	g = New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	if err := store.Links().ImportLinks(context.Background(), "tg",
		[]mapping.Link{{Remote: "+155500033301", User: "alice@example.test", Name: "B"}}); err != nil {
		t.Fatal(err)
	}
	read = sessionWritten(t, g)
	startIntake(t, g)
	var once sync.Once
	release = func() { once.Do(func() { close(tr.hold) }) }
	t.Cleanup(func() {
		release()
		eventually(t, "the steps done", func() bool { return laterSteps(g) == 0 })
	})
	return g, read, release
}

// Alice joins room A, whose membership check is slow, then room B, and
// writes to B. B's join is done first, but its answers go after A's (a
// user's answers keep the order of the user's stanzas); her message to B
// is relayed once B's join is done, and its reflection waits for them: she
// gets it after her self-presence in B, never before (XEP-0045 clients
// take nothing from a room before it).
func TestRoomReflectionAfterSelfPresence(t *testing.T) {
	var logs logbuf.Buffer
	g, read, release := heldRoomsGateway(t, &logs)
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
	release()
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

// Alice's join of room A waits on a slow membership check (up to the
// join's storeTimeout; an earlier sign-in step of hers, up to 60 s, holds
// her answers back the same way). She joins room B, done at once, and
// writes 40 messages to B, then bob asks the gateway something. Bob's
// stanza is read and answered while A's check is held: one user's slow
// step never stops the read loop for everyone. Alice's messages are
// relayed, and their reflections wait for her self-presence in B (behind
// A's answers).
func TestOneUsersSlowJoinLeavesTheReadLoop(t *testing.T) {
	var logs logbuf.Buffer
	g, read, release := heldRoomsGateway(t, &logs)
	feed(t, g, []string{
		`<presence from="alice@example.test/pc" to="+155500033300@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<presence from="alice@example.test/pc" to="+155500033301@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
	})
	eventually(t, "B joined", func() bool {
		return strings.Contains(logs.String(), `"user joined a room" transport=tg room=+155500033301`)
	})
	time.Sleep(50 * time.Millisecond) // B's join work has returned long since
	const n = 40
	var in []string
	for i := range n {
		in = append(in, fmt.Sprintf(`<message type="groupchat" id="m%d" from="alice@example.test/pc" to="+155500033301@tg.example.test"><body>msg %d</body></message>`, i, i))
	}
	out := feedPastHeld(t, g, in, release)
	eventually(t, "bob answered", func() bool { return strings.Contains(out+read(), `id="bob1"`) })
	if got := read(); strings.Contains(got, "<body>msg ") {
		t.Errorf("a reflection written before alice's self-presence in B:\n%s", got)
	}
	release()
	eventually(t, "every reflection written", func() bool { return strings.Count(read(), "<body>msg ") == n })
	got := read()
	self := strings.Index(got, `<presence from="+155500033301@tg.example.test/al" to="alice@example.test/pc"`)
	if first := strings.Index(got, "<body>msg "); self < 0 || first < self {
		t.Errorf("self-presence in B at %d, first reflection at %d:\n%s", self, first, got)
	}
	jobs, err := g.o.Store.Jobs().Pending(context.Background(), "tg", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != n {
		t.Errorf("%d messages stored, want %d", len(jobs), n)
	}
}

// Alice's join of room A waits on a slow membership check, and her client
// autojoins 40 more rooms (more than laterPerUser): their work is done at
// once, but their answers wait for A's, and so do their steps. Bob's
// stanza is read and answered meanwhile: a user's presences past her
// bound of steps are neither refused nor a reason for the read loop to
// wait (only the bound on everyone's steps is). Every join is answered
// once A's check is.
func TestOneUsersJoinsBehindASlowOneLeaveTheReadLoop(t *testing.T) {
	var logs logbuf.Buffer
	g, read, release := heldRoomsGateway(t, &logs)
	const n = 40
	in := []string{joinN(0, "")}
	for i := 1; i <= n; i++ {
		in = append(in, joinN(i, ""))
	}
	out := feedPastHeld(t, g, in, release)
	eventually(t, "bob answered", func() bool { return strings.Contains(out+read(), `id="bob1"`) })
	release()
	eventually(t, "every join answered", func() bool { return strings.Count(read(), `<status code="110">`) == n+1 })
	if strings.Contains(out+read(), `type="error"`) {
		t.Errorf("a join refused:\n%s", out+read())
	}
}

// Alice's join of room A waits on a slow check, and she sends more
// presences behind it than her share (awaitPerUser): those past it are
// refused (wait/resource-constraint), so she alone cannot fill everyone's
// bound (laterAll) and make the read loop wait for her: bob's stanza is
// read and answered while her check is held.
func TestOneUserCannotFillEveryonesSteps(t *testing.T) {
	var logs logbuf.Buffer
	g, read, release := heldRoomsGateway(t, &logs)
	in := []string{joinN(0, "")}
	for range laterAll + 8 {
		in = append(in, joinN(1, ""))
	}
	out := feedPastHeld(t, g, in, release)
	if n := laterSteps(g); n != awaitPerUser {
		t.Errorf("alice's steps in flight: %d, want her share, %d", n, awaitPerUser)
	}
	const refused = `<presence type="error" from="+155500033301@tg.example.test/al" to="alice@example.test/pc"><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">too many of your requests are in progress; try again shortly</text></error></presence>`
	if got, want := strings.Count(out, refused), laterAll+8+1-awaitPerUser; got != want {
		t.Errorf("%d presences refused on the read loop, want %d; first answers:\n%.2000s", got, want, out)
	}
	eventually(t, "bob answered", func() bool { return strings.Contains(out+read(), `id="bob1"`) })
	release()
	eventually(t, "the steps done", func() bool { return laterSteps(g) == 0 })
}

// feedPastHeld feeds in, then bob's disco#info, to g while a step of
// alice's is held (release lets it go), and returns what was answered on
// the read loop. It fails the test if the read loop waits for the held
// step: bob's stanza is not read within 3 s, well within the step's own
// bound (storeTimeout).
func feedPastHeld(t *testing.T, g *Gateway, in []string, release func()) string {
	t.Helper()
	in = append(in, `<iq type="get" id="bob1" from="bob@example.test/phone" to="tg.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	fed := make(chan string, 1)
	go func() { fed <- feed(t, g, in) }()
	select {
	case out := <-fed:
		return out
	case <-time.After(3 * time.Second):
		n := laterSteps(g)
		release()
		<-fed
		t.Fatalf("the read loop waits for alice's held step: bob's stanza not read (steps in flight: %d)", n)
		return ""
	}
}

// Alice's join of group A waits on its slow membership check, and she
// joins group B, done at once, its answers held behind A's. A member of B
// writes, then a one-to-one contact of hers, whose message the store's
// queue writes after B's. Alice gets B's message only after her
// self-presence in B (XEP-0045: a client takes nothing from a room it has
// not finished joining), as her own reflections.
func TestGroupMessageAfterSelfPresence(t *testing.T) {
	var logs logbuf.Buffer
	tr := heldMemberRooms{roomLinked: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}, hold: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(tr.hold) }) }
	t.Cleanup(release)
	g, srv, _, _, _ := runningRoomsOf(t, &logs, tr)
	ctx := context.Background()
	if err := g.o.Store.Links().ImportLinks(ctx, "tg", []mapping.Link{{Remote: "+155500033301", User: "alice@example.test", Name: "B"}, {Remote: "+15550002222", User: "alice@example.test", Name: "Dana"}}); err != nil {
		t.Fatal(err)
	}
	const alice = "alice@example.test/pc"
	srv.in <- `<presence from="` + alice + `" to="+155500033300@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>` +
		`<presence from="` + alice + `" to="+155500033301@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
	eventually(t, "B joined", func() bool {
		return strings.Contains(logs.String(), `"user joined a room" transport=tg room=+155500033301`)
	})
	for _, in := range []transports.Inbound{
		{From: "+155500033301", ID: "n1", Body: "anyone on db1?", Group: true, Sender: "Bob", SenderID: "42"},
		{From: "+15550002222", ID: "n2", Body: "call me"},
	} {
		if err := g.Deliver(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "Dana's message written", func() bool {
		return strings.Contains(strings.Join(writtenTo(srv, "alice@example.test"), ""), "call me")
	})
	release()
	eventually(t, "B's answers and message written", func() bool { return len(writtenTo(srv, alice)) == 5 })
	want := []string{
		`<presence from="+155500033300@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`,
		`<message type="groupchat" from="+155500033300@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033300</subject></message>`,
		`<presence from="+155500033301@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`,
		`<message type="groupchat" from="+155500033301@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033301</subject></message>`,
		`<message type="groupchat" id="n1" from="+155500033301@tg.example.test/Bob" to="alice@example.test/pc"><body>anyone on db1?</body><origin-id xmlns="urn:xmpp:sid:0" id="n1"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="n1" by="+155500033301@tg.example.test"></stanza-id></message>`,
	}
	if got := writtenTo(srv, alice); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alice got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
