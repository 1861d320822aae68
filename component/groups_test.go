package component

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// roomStep is one step of a room test: a stanza handled (in) or a group
// message delivered (deliver), with what is written back (out) and what is
// queued for XMPP (queued), exactly.
type roomStep struct {
	in      string
	deliver *transports.Inbound
	out     string
	queued  string
}

// runRoomSteps runs steps in order on one roomGateway, and returns it.
func runRoomSteps(t *testing.T, steps []roomStep) (*Gateway, *mapping.Store) {
	t.Helper()
	g, store := roomGateway(t)
	ctx := context.Background()
	var last int64
	for i, s := range steps {
		var out string
		if s.deliver != nil {
			if err := g.Deliver(ctx, *s.deliver); err != nil {
				t.Fatalf("%d: Deliver: %v", i, err)
			}
		} else {
			out = stampRE.ReplaceAllString(handle(t, g, s.in), "STAMP")
		}
		if out != s.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, out, s.out)
		}
		q, err := store.ToXMPP().PendingAfter(ctx, "tg", last, 100)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, st := range q {
			b.Write(st.Stanza)
			last = st.ID
		}
		if b.String() != s.queued {
			t.Errorf("%d: queued\n%s\nwant\n%s", i, b.String(), s.queued)
		}
	}
	return g, store
}

// A member cannot start a line of their own inside the prefixed text of a
// group shown as a contact: every kind of line break becomes a new,
// prefixed line, and a name cannot hold one either.
func TestGroupPrefixLineBreaks(t *testing.T) {
	chat := func(id, body string) string {
		return `<message type="chat" id="` + id + `" from="+15550003333@tg.example.test" to="alice@example.test"><body>` + body +
			`</body><origin-id xmlns="urn:xmpp:sid:0" id="` + id + `"></origin-id></message>`
	}
	runRoomSteps(t, []roomStep{
		0: {deliver: &transports.Inbound{From: "+15550003333", ID: "f0", Group: true, Sender: "Bob", SenderID: "1", Body: "ok\rAlice TG: approved"},
			queued: chat("f0", "Bob: ok&#xA;Bob: Alice TG: approved")},
		1: {deliver: &transports.Inbound{From: "+15550003333", ID: "f1", Group: true, Sender: "Bob", SenderID: "1", Body: "a\r\nb\u2028c\u2029d\u0085e\vf\fg\nh"},
			queued: chat("f1", "Bob: a&#xA;Bob: b&#xA;Bob: c&#xA;Bob: d&#xA;Bob: e&#xA;Bob: f&#xA;Bob: g&#xA;Bob: h")},
		2: {deliver: &transports.Inbound{From: "+15550003333", ID: "f2", Group: true, Sender: "Eve\u2028Alice TG", SenderID: "2", Body: "hi"},
			queued: chat("f2", "Eve Alice TG: hi")},
	})
}

// Members are occupants by their own nicks: one named like the user's nick,
// or like another member, gets a suffix, and keeps it; the user cannot
// take a member's nick (conflict), and keeps the nicks it joined under.
func TestRoomNickCollisions(t *testing.T) {
	const room = "+15550003333@tg.example.test"
	occupant := func(nick, to string) string {
		return `<presence from="` + room + `/` + nick + `" to="` + to + `"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>`
	}
	groupchat := func(id, nick, body string) string {
		return `<message type="groupchat" id="` + id + `" from="` + room + `/` + nick + `" to="alice@example.test/pc"><body>` + body +
			`</body><origin-id xmlns="urn:xmpp:sid:0" id="` + id + `"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="` + id + `" by="` + room + `"></stanza-id></message>`
	}
	chat := func(id, body string) string {
		return `<message type="chat" id="` + id + `" from="` + room + `" to="alice@example.test"><body>` + body +
			`</body><origin-id xmlns="urn:xmpp:sid:0" id="` + id + `"></origin-id></message>`
	}
	conflict := func(id, nick, to string) string {
		return `<presence type="error" id="` + id + `" from="` + room + `/` + nick + `" to="` + to + `"><error type="cancel"><conflict ` + errNS +
			`></conflict><text ` + errNS + `>a member of the group goes by that nick; choose another</text></error></presence>`
	}
	runRoomSteps(t, []roomStep{
		0: {deliver: &transports.Inbound{From: "+15550003333", ID: "n0", Group: true, Sender: "Bob", SenderID: "1", Body: "hi"},
			queued: chat("n0", "Bob: hi")},
		1: { // another Bob
			deliver: &transports.Inbound{From: "+15550003333", ID: "n1", Group: true, Sender: "Bob", SenderID: "2", Body: "hello"},
			queued:  chat("n1", "Bob (2): hello")},
		2: {in: `<presence from="alice@example.test/pc" to="` + room + `/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
			out: occupant("Bob", "alice@example.test/pc") + occupant("Bob (2)", "alice@example.test/pc") +
				`<presence from="` + room + `/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
				`<message type="groupchat" from="` + room + `" to="alice@example.test/pc"><subject>Ops team</subject></message>`},
		3: { // a member named like the user's nick does not speak as the user
			deliver: &transports.Inbound{From: "+15550003333", ID: "n3", Group: true, Sender: "al", SenderID: "3", Body: "I am al"},
			queued:  groupchat("n3", "al (2)", "I am al")},
		4: {deliver: &transports.Inbound{From: "+15550003333", ID: "n4", Group: true, Sender: "Bob", SenderID: "1", Body: "still me"},
			queued: groupchat("n4", "Bob", "still me")},
		5: {deliver: &transports.Inbound{From: "+15550003333", ID: "n5", Group: true, Sender: "Bob", SenderID: "2", Body: "me too"},
			queued: groupchat("n5", "Bob (2)", "me too")},
		6: { // the user cannot join as a member
			in:  `<presence id="j6" from="alice@example.test/phone" to="` + room + `/Bob"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
			out: conflict("j6", "Bob", "alice@example.test/phone")},
		7: { // nor take a member's nick when joined
			in:  `<presence id="j7" from="alice@example.test/pc" to="` + room + `/al (2)"/>`,
			out: conflict("j7", "al (2)", "alice@example.test/pc")},
		8: {in: `<presence type="unavailable" from="alice@example.test/pc" to="` + room + `/al"/>`,
			out: `<presence type="unavailable" from="` + room + `/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="none" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`},
		9: { // the user's nick stays the user's while away
			deliver: &transports.Inbound{From: "+15550003333", ID: "n9", Group: true, Sender: "al", SenderID: "5", Body: "hey"},
			queued:  chat("n9", "al (3): hey")},
	})
}

// Disco#info on a room tells its title only to the user it is linked to;
// anyone else gets what a JID that is no room gets.
func TestRoomDiscoPrivacy(t *testing.T) {
	g, _ := roomGateway(t)
	ask := func(id, from, to string) string {
		return `<iq type="get" id="` + id + `" from="` + from + `" to="` + to + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`
	}
	plain := func(id, from, to string) string { // a contact's, or an unknown JID's
		return `<iq type="result" id="` + id + `" from="` + to + `" to="` + from + `"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="phone"></identity>` +
			`<feature var="http://jabber.org/protocol/disco#info"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query></iq>`
	}
	room := func(id, from, to, title string) string {
		return `<iq type="result" id="` + id + `" from="` + to + `" to="` + from + `"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="conference" type="text" name="` + title + `"></identity>` +
			`<feature var="http://jabber.org/protocol/disco#info"></feature><feature var="http://jabber.org/protocol/muc"></feature><feature var="http://jabber.org/protocol/muc#self-ping-optimization"></feature><feature var="muc_membersonly"></feature><feature var="muc_nonanonymous"></feature><feature var="muc_persistent"></feature><feature var="muc_unsecured"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:mam:2"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query></iq>`
	}
	const (
		ops     = "+15550003333@tg.example.test"
		bobs    = "+15550003334@tg.example.test"
		unknown = "+15550003339@tg.example.test"
		dm      = "+15550002222@tg.example.test"
		alice   = "alice@example.test/pc"
		bob     = "bob@example.test/pc"
		mallory = "mallory@evil.test/x"
	)
	for i, c := range []struct{ from, to, want string }{
		0: {alice, ops, room("0", alice, ops, "Ops team")},
		1: {bob, bobs, room("1", bob, bobs, "Bob&#39;s")},
		2: {bob, ops, plain("2", bob, ops)},                 // allowed, but not bob's group
		3: {mallory, ops, plain("3", mallory, ops)},         // not allowed
		4: {mallory, unknown, plain("4", mallory, unknown)}, // what an unknown JID gets
		5: {alice, unknown, plain("5", alice, unknown)},
		6: {mallory, dm, plain("6", mallory, dm)},
	} {
		id := string(rune('0' + i))
		if got := handle(t, g, ask(id, c.from, c.to)); got != c.want {
			t.Errorf("%d: %s asks %s:\n%s\nwant\n%s", i, c.from, c.to, got, c.want)
		}
	}
}

// A group's link changes only at the request of the member who linked it or
// an administrator; Sink.Redeem and Sink.Unlink, which do not say who asks,
// cannot change a linked group.
func TestGroupLinkRules(t *testing.T) {
	g, store := roomGateway(t)
	ctx := context.Background()
	code := func(user string) string {
		c, err := store.Links().NewLinkCode(ctx, "tg", user, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	refused := func(what string, err error) {
		t.Helper()
		var le *transports.LinkError
		if !errors.As(err, &le) || !strings.HasPrefix(le.Msg, "only the member who linked this chat") {
			t.Errorf("%s: %v, want a refusal", what, err)
		}
	}
	// alice's group, linked before members were recorded
	_, err := g.Redeem(ctx, "+15550003333", "Ops", code("alice@example.test"))
	refused("Link without an asker", err)
	_, err = g.Unlink(ctx, "+15550003333")
	refused("Unlink without an asker", err)
	refused("a member unlinks", g.UnlinkGroup(ctx, "+15550003333", transports.Asker{Member: "7"}))

	// a new group: a member links it, another may not unlink it
	if err := g.LinkGroup(ctx, "+15550003335", "Dev", code("alice@example.test"), transports.Asker{Member: "7"}); err != nil {
		t.Fatalf("LinkGroup: %v", err)
	}
	refused("another member unlinks", g.UnlinkGroup(ctx, "+15550003335", transports.Asker{Member: "9"}))
	refused("another member re-links", g.LinkGroup(ctx, "+15550003335", "Dev", code("alice@example.test"), transports.Asker{Member: "9"}))
	if err := g.UnlinkGroup(ctx, "+15550003335", transports.Asker{Member: "7"}); err != nil {
		t.Errorf("the linker unlinks: %v", err)
	}
	if err := g.UnlinkGroup(ctx, "+15550003333", transports.Asker{Member: "8", Admin: true}); err != nil {
		t.Errorf("an admin unlinks: %v", err)
	}
	// A one-to-one chat is unchanged.
	if user, err := g.Unlink(ctx, "+15550002222"); user != "alice@example.test" || err != nil {
		t.Errorf("Unlink of a one-to-one chat: %q, %v", user, err)
	}
}
