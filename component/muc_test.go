package component

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// roomLinked is a Linked transport whose +1555000333x contacts are groups.
type roomLinked struct{ *transporttest.Linked }

func (roomLinked) IsRoom(a transports.Addr) bool { return strings.HasPrefix(string(a), "+1555000333") }

// roomHistory is the test transport's room_history.
const roomHistory = 20

func (roomLinked) RoomHistory() int { return roomHistory }

// roomGateway is a gateway for tg.example.test where +15550003333 ("Ops
// team") is alice's group, +15550003334 bob's, and +15550002222 alice's
// one-to-one chat.
func roomGateway(t testing.TB) (*Gateway, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	if err := store.Links().ImportLinks(context.Background(), "tg", roomLinks); err != nil {
		t.Fatal(err)
	}
	return g, store
}

// roomLinks are roomGateway's links.
var roomLinks = []mapping.Link{
	{Remote: "+15550002222", User: "alice@example.test", Name: "Alice"},
	{Remote: "+15550003333", User: "alice@example.test", Name: "Ops team"},
	{Remote: "+15550003334", User: "bob@example.test", Name: "Bob's"},
}

var stampRE = regexp.MustCompile(`stamp="[0-9T:.Z-]+"`)

// roomSteps run in order on one gateway (runRoomSteps), through the rooms
// module (package muc) and the sink.
var roomSteps = []roomStep{
	0: { // before anyone joins, the group is a contact with prefixed lines
		deliver: &transports.Inbound{From: "+15550003333", ID: "g1", Body: "deploy done\nall good", Group: true, Sender: "Bob"},
		queued:  `<message type="chat" id="g1" from="+15550003333@tg.example.test" to="alice@example.test"><body>Bob: deploy done&#xA;Bob: all good</body><origin-id xmlns="urn:xmpp:sid:0" id="g1"></origin-id></message>`,
	},
	1: { // the user joins: occupants, self-presence, history, subject
		in: `<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence from="+15550003333@tg.example.test/Bob" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
			`<message type="groupchat" id="g1" from="+15550003333@tg.example.test/Bob" to="alice@example.test/pc"><body>deploy done` + "\n" + `all good</body><stanza-id xmlns="urn:xmpp:sid:0" id="g1" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/pc"><subject>Ops team</subject></message>`,
	},
	2: { // a member speaks: a groupchat message to the joined resource
		deliver: &transports.Inbound{From: "+15550003333", ID: "g2", Body: "ship it", Group: true, Sender: "Carol", Media: []string{"https://gw/m/1.jpg"}},
		queued: `<message type="groupchat" id="g2" from="+15550003333@tg.example.test/Carol" to="alice@example.test/pc"><body>ship it</body><origin-id xmlns="urn:xmpp:sid:0" id="g2"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g2" by="+15550003333@tg.example.test"></stanza-id></message>` +
			`<message type="groupchat" id="g2-m0" from="+15550003333@tg.example.test/Carol" to="alice@example.test/pc"><body>https://gw/m/1.jpg</body><origin-id xmlns="urn:xmpp:sid:0" id="g2-m0"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g2-m0" by="+15550003333@tg.example.test"></stanza-id><x xmlns="jabber:x:oob"><url>https://gw/m/1.jpg</url></x></message>`,
	},
	3: { // an edit is a correction
		deliver: &transports.Inbound{From: "+15550003333", ID: "g2:e1", Body: "ship it now", Group: true, Sender: "Carol", Replaces: "g2"},
		queued:  `<message type="groupchat" id="g2:e1" from="+15550003333@tg.example.test/Carol" to="alice@example.test/pc"><body>ship it now</body><replace xmlns="urn:xmpp:message-correct:0" id="g2"></replace><origin-id xmlns="urn:xmpp:sid:0" id="g2:e1"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g2:e1" by="+15550003333@tg.example.test"></stanza-id></message>`,
	},
	4: { // the user writes: queued for the group, reflected once
		in:  `<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`,
		out: `<message type="groupchat" id="u1" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><body>on it</body></message>`,
	},
	5: { // from a resource that has not joined: refused
		in:  `<message type="groupchat" id="u2" from="alice@example.test/phone" to="+15550003333@tg.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="u2" from="+15550003333@tg.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>join the room before writing to it</text></error></message>`,
	},
	6: { // another user's group
		in:  `<presence id="j6" from="alice@example.test/pc" to="+15550003334@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence type="error" id="j6" from="+15550003334@tg.example.test/al" to="alice@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>+15550003334 is not a Telegram group linked to alice@example.test; send &#34;link&#34; to tg.example.test to link one</text></error></presence>`,
	},
	7: { // an unlinked group
		in:  `<presence id="j7" from="alice@example.test/pc" to="+15550003339@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence type="error" id="j7" from="+15550003339@tg.example.test/al" to="alice@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>+15550003339 is not a Telegram group linked to alice@example.test; send &#34;link&#34; to tg.example.test to link one</text></error></presence>`,
	},
	8: { // someone not allowed
		in:  `<presence id="j8" from="mallory@evil.test/x" to="+15550003333@tg.example.test/m"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence type="error" id="j8" from="+15550003333@tg.example.test/m" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></presence>`,
	},
	9: { // a one-to-one chat is no room
		in:  `<presence id="j9" from="alice@example.test/pc" to="+15550002222@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence type="error" id="j9" from="+15550002222@tg.example.test/al" to="alice@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>only a group can be joined as a room</text></error></presence>`,
	},
	10: { // disco#info of the room
		in: `<iq type="get" id="d10" from="alice@example.test/pc" to="+15550003333@tg.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		out: `<iq type="result" id="d10" from="+15550003333@tg.example.test" to="alice@example.test/pc"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="conference" type="text" name="Ops team"></identity>` +
			`<feature var="http://jabber.org/protocol/disco#info"></feature><feature var="http://jabber.org/protocol/muc"></feature><feature var="http://jabber.org/protocol/muc#self-ping-optimization"></feature><feature var="muc_membersonly"></feature><feature var="muc_nonanonymous"></feature><feature var="muc_persistent"></feature><feature var="muc_unsecured"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:mam:2"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query></iq>`,
	},
	11: { // leaving
		in:  `<presence type="unavailable" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"/>`,
		out: `<presence type="unavailable" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="none" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`,
	},
	12: { // ...and the group is a contact again
		deliver: &transports.Inbound{From: "+15550003333", ID: "g3", Body: "bye", Group: true, Sender: "Bob"},
		queued:  `<message type="chat" id="g3" from="+15550003333@tg.example.test" to="alice@example.test"><body>Bob: bye</body><origin-id xmlns="urn:xmpp:sid:0" id="g3"></origin-id></message>`,
	},
	13: { // joining again without history: occupants, self, subject
		in: `<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
		out: `<presence from="+15550003333@tg.example.test/Bob" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/Carol" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>` +
			`<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/pc"><subject>Ops team</subject></message>`,
	},
	14: { // the server bounces a message to the resource: it is gone
		in: `<message type="error" id="g9" from="alice@example.test/pc" to="+15550003333@tg.example.test/Bob"><error type="cancel"><service-unavailable ` + errNS + `/></error></message>`,
	},
	15: {
		deliver: &transports.Inbound{From: "+15550003333", ID: "g4", Body: "anyone?", Group: true, Sender: "Bob"},
		queued:  `<message type="chat" id="g4" from="+15550003333@tg.example.test" to="alice@example.test"><body>Bob: anyone?</body><origin-id xmlns="urn:xmpp:sid:0" id="g4"></origin-id></message>`,
	},
	16: { // another resource joins
		in: `<presence from="alice@example.test/phone" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
		out: `<presence from="+15550003333@tg.example.test/Bob" to="alice@example.test/phone"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/Carol" to="alice@example.test/phone"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/al" to="alice@example.test/phone"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/phone"></item><status code="100"></status><status code="110"></status></x></presence>` +
			`<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/phone"><subject>Ops team</subject></message>`,
	},
	17: { // a reply, and a reaction, in the room
		deliver: &transports.Inbound{From: "+15550003333", ID: "g5", Body: "done", Group: true, Sender: "Ann", ReplyTo: "g2", Quote: "ship it"},
		queued:  `<message type="groupchat" id="g5" from="+15550003333@tg.example.test/Ann" to="alice@example.test/phone"><body>&gt; ship it&#xA;done</body><reply xmlns="urn:xmpp:reply:0" id="g2" to="+15550003333@tg.example.test"></reply><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="10"></body></fallback><origin-id xmlns="urn:xmpp:sid:0" id="g5"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g5" by="+15550003333@tg.example.test"></stanza-id></message>`,
	},
	18: {
		deliver: &transports.Inbound{From: "+15550003333", ID: "g2:r1", Group: true, Sender: "Ann", ReactTo: "g2", Reactions: []string{"👍"}},
		queued:  `<message type="groupchat" id="g2:r1" from="+15550003333@tg.example.test/Ann" to="alice@example.test/phone"><reactions xmlns="urn:xmpp:reactions:0" id="g2"><reaction>👍</reaction></reactions><store xmlns="urn:xmpp:hints"></store></message>`,
	},
	19: { // a third resource joins with the last 5 messages: the user's own is among them, from its nick
		in: `<presence from="alice@example.test/tablet" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="5"/></x></presence>`,
		out: `<presence from="+15550003333@tg.example.test/Ann" to="alice@example.test/tablet"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/Bob" to="alice@example.test/tablet"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/Carol" to="alice@example.test/tablet"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
			`<presence from="+15550003333@tg.example.test/al" to="alice@example.test/tablet"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/tablet"></item><status code="100"></status><status code="110"></status></x></presence>` +
			`<message type="groupchat" id="g2:e1" from="+15550003333@tg.example.test/Carol" to="alice@example.test/tablet"><body>ship it now</body><replace xmlns="urn:xmpp:message-correct:0" id="g2"></replace><stanza-id xmlns="urn:xmpp:sid:0" id="g2:e1" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" id="u1" from="+15550003333@tg.example.test/al" to="alice@example.test/tablet"><body>on it</body><stanza-id xmlns="urn:xmpp:sid:0" id="u1" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" id="g3" from="+15550003333@tg.example.test/Bob" to="alice@example.test/tablet"><body>bye</body><stanza-id xmlns="urn:xmpp:sid:0" id="g3" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" id="g4" from="+15550003333@tg.example.test/Bob" to="alice@example.test/tablet"><body>anyone?</body><stanza-id xmlns="urn:xmpp:sid:0" id="g4" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" id="g5" from="+15550003333@tg.example.test/Ann" to="alice@example.test/tablet"><body>done</body><stanza-id xmlns="urn:xmpp:sid:0" id="g5" by="+15550003333@tg.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="+15550003333@tg.example.test"></delay></message>` +
			`<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/tablet"><subject>Ops team</subject></message>`,
	},
	20: { // a private message to one member (XEP-0045 7.5) is refused, not sent to the whole group
		in:  `<message type="chat" id="pm1" from="alice@example.test/phone" to="+15550003333@tg.example.test/Bob"><body>only for Bob</body></message>`,
		out: `<message type="error" id="pm1" from="+15550003333@tg.example.test/Bob" to="alice@example.test/phone"><error type="cancel"><feature-not-implemented ` + errNS + `></feature-not-implemented><text ` + errNS + `>private messages to group members are not supported</text></error></message>`,
	},
	21: { // ...a normal one, or an attachment, too
		in:  `<message id="pm2" from="alice@example.test/phone" to="+15550003333@tg.example.test/Bob"><x xmlns="jabber:x:oob"><url>https://files.example.org/a.jpg</url></x><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
		out: `<message type="error" id="pm2" from="+15550003333@tg.example.test/Bob" to="alice@example.test/phone"><error type="cancel"><feature-not-implemented ` + errNS + `></feature-not-implemented><text ` + errNS + `>private messages to group members are not supported</text></error></message>`,
	},
	22: { // ...and a headline is dropped unanswered (RFC 6121)
		in: `<message type="headline" id="pm3" from="alice@example.test/phone" to="+15550003333@tg.example.test/Bob"><body>news</body></message>`,
	},
	23: { // XEP-0410 self-ping of a joined client: a result
		in:  `<iq type="get" id="sp1" from="alice@example.test/phone" to="+15550003333@tg.example.test/al"><ping xmlns="urn:xmpp:ping"/></iq>`,
		out: `<iq type="result" id="sp1" from="+15550003333@tg.example.test/al" to="alice@example.test/phone"></iq>`,
	},
	24: { // ...of a client no longer in the room (bounced, step 14): not-acceptable, so that it joins again
		in:  `<iq type="get" id="sp2" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><ping xmlns="urn:xmpp:ping"/></iq>`,
		out: `<iq type="error" id="sp2" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><error type="cancel"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>not in the room under this nick</text></error></iq>`,
	},
	25: { // ...and of a nick not the client's own
		in:  `<iq type="get" id="sp3" from="alice@example.test/phone" to="+15550003333@tg.example.test/Bob"><ping xmlns="urn:xmpp:ping"/></iq>`,
		out: `<iq type="error" id="sp3" from="+15550003333@tg.example.test/Bob" to="alice@example.test/phone"><error type="cancel"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>not in the room under this nick</text></error></iq>`,
	},
	26: { // a join without a nick, to the room's bare JID: jid-malformed (XEP-0045 7.2.1)
		in:  `<presence id="j26" from="alice@example.test/pc" to="+15550003333@tg.example.test"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		out: `<presence type="error" id="j26" from="+15550003333@tg.example.test" to="alice@example.test/pc"><error type="modify"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>join with a nick: room/nick</text></error></presence>`,
	},
	27: { // a chat state alone to one member (typing) is dropped, not answered once a keystroke
		in: `<message type="chat" id="pm27" from="alice@example.test/phone" to="+15550003333@tg.example.test/Bob"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
	},
	28: { // an edited caption: one correction, with the file's link
		deliver: &transports.Inbound{From: "+15550003333", ID: "g2:e2", Body: "ship it today", Group: true, Sender: "Carol", Replaces: "g2", Media: []string{"https://gw/m/1.jpg"}},
		queued: `<message type="groupchat" id="g2:e2" from="+15550003333@tg.example.test/Carol" to="alice@example.test/phone"><body>ship it today&#xA;https://gw/m/1.jpg</body><replace xmlns="urn:xmpp:message-correct:0" id="g2"></replace><origin-id xmlns="urn:xmpp:sid:0" id="g2:e2"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g2:e2" by="+15550003333@tg.example.test"></stanza-id><x xmlns="jabber:x:oob"><url>https://gw/m/1.jpg</url></x></message>` +
			`<message type="groupchat" id="g2:e2" from="+15550003333@tg.example.test/Carol" to="alice@example.test/tablet"><body>ship it today&#xA;https://gw/m/1.jpg</body><replace xmlns="urn:xmpp:message-correct:0" id="g2"></replace><origin-id xmlns="urn:xmpp:sid:0" id="g2:e2"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="g2:e2" by="+15550003333@tg.example.test"></stanza-id><x xmlns="jabber:x:oob"><url>https://gw/m/1.jpg</url></x></message>`,
	},
}

func TestRoomSteps(t *testing.T) {
	g, store := runRoomSteps(t, roomSteps)
	ctx := context.Background()
	// The user's groupchat message became a job for the group; the
	// private messages to a member did not.
	jobs, err := store.Jobs().Pending(ctx, "tg", 0, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Remote != "+15550003333" || jobs[0].Body != "on it" || jobs[0].StanzaID != "u1" {
		t.Errorf("jobs %+v, %v", jobs, err)
	}
	// History keeps the last roomHistory messages.
	for i := range roomHistory + 5 {
		in := transports.Inbound{From: "+15550003333", ID: "h" + string(rune('a'+i)), Body: "x", Group: true, Sender: "Bob"}
		if err := g.Deliver(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	h, err := store.Rooms().RoomHistory(ctx, "tg", "+15550003333", 100)
	if err != nil || len(h) != roomHistory || h[len(h)-1].StanzaID != "h"+string(rune('a'+roomHistory+4)) {
		t.Errorf("history %d entries, %v", len(h), err)
	}
}
