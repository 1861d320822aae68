package component

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"xmppgw/component/router"
	"xmppgw/internal/logbuf"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// heldGroupWrite has g's intake (running) gather what hand hands it, n
// items, into one group, and run their thens, but hold the group's write
// to the session until the returned release (called at cleanup too): the
// window between a step's answers given to the session's writer and their
// write, which is what the intake's other items of a group (another
// message's commit, a history write, the wait for a session after a
// reconnect) make in production.
func heldGroupWrite(t *testing.T, g *Gateway, n int, hand func()) (release func()) {
	t.Helper()
	started, busy, entered, held := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	var busyOnce sync.Once
	t.Cleanup(func() { busyOnce.Do(func() { close(busy) }); release() })
	g.handToIntake(func(router.Writer) { close(started); <-busy })
	<-started // the intake has gathered its group, and waits in its then
	hand()
	eventually(t, "the items handed to the intake", func() bool { return len(g.in.items) == n })
	g.handToIntake(func(router.Writer) { close(entered); <-held })
	busyOnce.Do(func() { close(busy) })
	<-entered // the items' thens have run, in one group
	return release
}

// queueWritten waits until the store's queue for XMPP is empty: what was
// queued is written, and the server has taken it.
func queueWritten(t *testing.T, g *Gateway) {
	t.Helper()
	eventually(t, "the store's queue written", func() bool {
		q, err := g.o.Store.ToXMPP().Pending(context.Background(), g.name, 1)
		return err == nil && len(q) == 0
	})
}

// Alice's join of group A waits on its slow membership check, and she
// joins group B, whose answers wait behind A's. Once A's check is done,
// both joins' answers are handed to the intake, which gives them to the
// session's writer, but the write waits (another item of the group). A
// member of B writes meanwhile: the message is held for alice's client
// until B's answers are on the session, not queued (the store's queue,
// another writer, would write it first), and alice gets it right after
// her self-presence and the subject in B.
func TestGroupMessageWaitsForTheJoinsWrite(t *testing.T) {
	var logs logbuf.Buffer
	tr := heldMemberRooms{roomLinked: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}, hold: make(chan struct{})}
	var once sync.Once
	checked := func() { once.Do(func() { close(tr.hold) }) }
	t.Cleanup(checked)
	g, srv, _, _, _ := runningRoomsOf(t, &logs, tr)
	ctx := context.Background()
	if err := g.o.Store.Links().ImportLinks(ctx, "tg", []mapping.Link{{Remote: "+155500033301", User: "alice@example.test", Name: "B"}}); err != nil {
		t.Fatal(err)
	}
	const alice = "alice@example.test/pc"
	srv.in <- `<presence from="` + alice + `" to="+155500033300@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>` +
		`<presence from="` + alice + `" to="+155500033301@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
	eventually(t, "B joined", func() bool {
		return strings.Contains(logs.String(), `"user joined a room" transport=tg room=+155500033301`)
	})
	release := heldGroupWrite(t, g, 2, checked) // A's answers, and B's behind them
	if err := g.Deliver(ctx, transports.Inbound{From: "+155500033301", ID: "n1", Body: "anyone on db1?", Group: true, Sender: "Bob", SenderID: "42"}); err != nil {
		t.Fatal(err)
	}
	queueWritten(t, g)
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

// Bob and alice are in the team inbox. Alice answers Dana: the answer is
// stored, kept in the room's history and shown to both, while the
// intake's write of that group waits (another item of it). Dana's text,
// stored meanwhile, comes after the answer in the history: both members
// get the answer, then the text, as the history has them; none gets the
// text first through the store's queue while the answer waits in the
// intake.
func TestInboxMembersGetTheAnswerBeforeTheTextAfterIt(t *testing.T) {
	g, srv, _ := runningTeamInbox(t, io.Discard, heldDesk{make(chan struct{})})
	const alice, bob = "alice@example.test/pc", "bob@example.test/pc"
	joinInbox(t, srv, alice, "alice")
	joinInbox(t, srv, bob, "bob")
	release := heldGroupWrite(t, g, 1, func() {
		srv.in <- `<message type="groupchat" id="a1" from="` + alice + `" to="oncall@sms.example.test"><body>+15557654321: on my way</body></message>`
	})
	ctx := context.Background()
	if err := g.Deliver(ctx, transports.Inbound{Account: "+15550009999", From: "+15557654321", ID: "SM0123456789abcdef0123456789abcdef", Body: "thanks, see you"}); err != nil {
		t.Fatal(err)
	}
	queueWritten(t, g)
	release()
	eventually(t, "both got the answer and the text", func() bool { return len(writtenTo(srv, bob)) == 5 && len(writtenTo(srv, alice)) == 5 })
	hist, err := g.o.Store.Rooms().RoomHistory(ctx, "sms", "oncall", 10)
	if err != nil || len(hist) != 2 || hist[0].StanzaID != "a1" || hist[1].Body != "thanks, see you" {
		t.Fatalf("history %+v, %v; want the answer, then the text", hist, err)
	}
	answer := `<message type="groupchat" id="a1" from="oncall@sms.example.test/alice" to="%s"><body>to +15557654321: on my way</body><stanza-id xmlns="urn:xmpp:sid:0" id="a1" by="oncall@sms.example.test"></stanza-id></message>`
	text := `<message type="groupchat" id="SM0123456789abcdef0123456789abcdef" from="oncall@sms.example.test/+15557654321" to="%s"><body>thanks, see you</body><origin-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef" by="oncall@sms.example.test"></stanza-id></message>`
	for _, c := range []struct {
		to   string
		want []string
	}{
		{bob, []string{fmt.Sprintf(inboxPeer, "alice", bob), fmt.Sprintf(inboxSelf, "bob", bob), fmt.Sprintf(inboxSubject, bob), fmt.Sprintf(answer, bob), fmt.Sprintf(text, bob)}},
		{alice, []string{fmt.Sprintf(inboxSelf, "alice", alice), fmt.Sprintf(inboxSubject, alice), fmt.Sprintf(inboxPeer, "bob", alice), fmt.Sprintf(answer, alice), fmt.Sprintf(text, alice)}},
	} {
		if got := writtenTo(srv, c.to); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s got\n%s\nwant\n%s", c.to, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// Alice's client is in group B, and joins it again (a join presence with
// <x/>, as a client does that believes it left: after a failed XEP-0410
// self-ping, or a stream resumption that failed), while her join of group
// A waits on its slow membership check: the rejoin's answers (occupants,
// self-presence, history, subject) wait behind A's. A member of B writes
// meanwhile: the message is held for the rejoining client, and comes
// right after the rejoin's answers, never before its self-presence.
func TestRejoinOfASeatedClientBeforeTheRoomsTraffic(t *testing.T) {
	var logs logbuf.Buffer
	tr := heldMemberRooms{roomLinked: roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}, hold: make(chan struct{})}
	var once sync.Once
	checked := func() { once.Do(func() { close(tr.hold) }) }
	t.Cleanup(checked)
	g, srv, _, _, _ := runningRoomsOf(t, &logs, tr)
	ctx := context.Background()
	if err := g.o.Store.Links().ImportLinks(ctx, "tg", []mapping.Link{{Remote: "+155500033301", User: "alice@example.test", Name: "B"}}); err != nil {
		t.Fatal(err)
	}
	const (
		alice  = "alice@example.test/pc"
		joinB  = `<presence from="` + alice + `" to="+155500033301@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
		joined = `"user joined a room" transport=tg room=+155500033301`
	)
	srv.in <- joinB
	eventually(t, "B's first join answered", func() bool { return len(writtenTo(srv, alice)) == 2 })
	srv.in <- `<presence from="` + alice + `" to="+155500033300@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>` + joinB
	eventually(t, "B joined again", func() bool { return strings.Count(logs.String(), joined) == 2 })
	if err := g.Deliver(ctx, transports.Inbound{From: "+155500033301", ID: "n1", Body: "anyone on db1?", Group: true, Sender: "Bob", SenderID: "42"}); err != nil {
		t.Fatal(err)
	}
	queueWritten(t, g)
	checked()
	eventually(t, "A's and B's answers and the message written", func() bool { return len(writtenTo(srv, alice)) == 7 })
	selfB := `<presence from="+155500033301@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`
	subjectB := `<message type="groupchat" from="+155500033301@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033301</subject></message>`
	want := []string{
		selfB, subjectB,
		`<presence from="+155500033300@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`,
		`<message type="groupchat" from="+155500033300@tg.example.test" to="alice@example.test/pc"><subject>Group +155500033300</subject></message>`,
		selfB, subjectB,
		`<message type="groupchat" id="n1" from="+155500033301@tg.example.test/Bob" to="alice@example.test/pc"><body>anyone on db1?</body><origin-id xmlns="urn:xmpp:sid:0" id="n1"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="n1" by="+155500033301@tg.example.test"></stanza-id></message>`,
	}
	if got := writtenTo(srv, alice); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alice got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
