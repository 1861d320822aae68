package muc

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/core/coretest"
	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/component/stanza"
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

// fakeCore is the Core of the module under test: tg.example.test, where
// +15550003333 ("Ops team") is alice's group, +15550003334 bob's, and
// +15550002222 alice's one-to-one chat. Relay takes every message that has
// a body, records it, and calls then at once.
type fakeCore struct {
	*coretest.Core
	tr      roomLinked
	relayed []string // the bodies relayed, in order
	barred  string   // a user of example.test not allowed (taken out of access.allow)
}

// Allowed is coretest's, but for barred.
func (f *fakeCore) Allowed(bare string) bool { return bare != f.barred && f.Core.Allowed(bare) }

func (f *fakeCore) Relay(ctx context.Context, w router.Writer, s *router.Stanza, _ transports.Addr,
	then func(context.Context, router.Writer, *stanza.Message, bool)) error {
	var m struct {
		Body string `xml:"body"`
	}
	if err := s.Decode(&m); err != nil || m.Body == "" {
		return err
	}
	f.relayed = append(f.relayed, m.Body)
	then(ctx, w, &stanza.Message{ID: s.ID, Body: m.Body}, false)
	return nil
}

func newFake(t *testing.T) (*fakeCore, *rooms) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Links().ImportLinks(context.Background(), "tg", []mapping.Link{
		{Remote: "+15550002222", User: "alice@example.test", Name: "Alice"},
		{Remote: "+15550003333", User: "alice@example.test", Name: "Ops team"},
		{Remote: "+15550003334", User: "bob@example.test", Name: "Bob's"},
	}); err != nil {
		t.Fatal(err)
	}
	tr := roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}}
	f := &fakeCore{Core: coretest.New("tg.example.test", tr, store), tr: tr}
	f.Ident = transports.Identity{Name: "Telegram"}
	inst := New(f)
	if inst == nil {
		t.Fatal("New returned nil for a Rooms transport")
	}
	return f, inst.(*rooms)
}

// target is what the core's router says the stanza's to is.
func (f *fakeCore) target(to jid.JID) router.Target {
	if to.Localpart() == "" {
		return router.Gateway
	}
	if f.tr.IsRoom(transports.Addr(mapping.AddrOf(to))) {
		if to.Resourcepart() != "" {
			return router.Occupant
		}
		return router.Room
	}
	return router.Contact
}

// dispatch routes raw through a router of the module's routes, as the
// core would, and returns what was written.
func dispatch(t *testing.T, f *fakeCore, r *router.Router, raw string) string {
	t.Helper()
	s := routertest.Stanza(t, raw, router.Contact)
	s.Target = f.target(s.To)
	var w routertest.Writer
	r.Dispatch(context.Background(), &w, s)
	return w.String()
}

var stampRE = regexp.MustCompile(`stamp="[0-9T:.Z-]+"`)

const (
	errNS = `xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"`
	ops   = "+15550003333@tg.example.test"
	pc    = "alice@example.test/pc"
)

func occupant(nick, to string) string {
	return `<presence from="` + ops + `/` + nick + `" to="` + to + `"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>`
}

func self(nick, to, typ, role string) string {
	t := ""
	if typ != "" {
		t = ` type="` + typ + `"`
	}
	return `<presence` + t + ` from="` + ops + `/` + nick + `" to="` + to + `"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="` + role + `" jid="` + to +
		`"></item><status code="100"></status><status code="110"></status></x></presence>`
}

func subject(to string) string {
	return `<message type="groupchat" from="` + ops + `" to="` + to + `"><subject>Ops team</subject></message>`
}

func refusal(kind, id, from, to, typ, cond, text string) string {
	return `<` + kind + ` type="error" id="` + id + `" from="` + from + `" to="` + to + `"><error type="` + typ + `"><` + cond + ` ` + errNS + `></` + cond +
		`><text ` + errNS + `>` + text + `</text></error></` + kind + `>`
}

// The module's stanzas, in order on one module, each with exactly what it
// writes back. Bob has spoken in the group before (its history).
func TestRoomStanzas(t *testing.T) {
	f, m := newFake(t)
	ctx := context.Background()
	if _, _, err := f.Store().Rooms().AcceptRoom(ctx, "tg", "in:h1", []mapping.RoomEntry{
		{Room: "+15550003333", Sender: "Bob", StanzaID: "h1", Body: "deploy done"},
		{Room: "+15550003333", Sender: "Bob", StanzaID: "h2", Body: "https://gw/m/1.jpg", OOB: "https://gw/m/1.jpg", Replaces: "h1"},
	}, roomHistory); err != nil {
		t.Fatal(err)
	}
	if nick, err := f.Store().Rooms().RoomNick(ctx, "tg", "+15550003333", "1", "Bob"); nick != "Bob" || err != nil {
		t.Fatalf("RoomNick: %q, %v", nick, err)
	}
	r := router.New(f.Logger(), m.Routes()...)
	join := func(id, from, to, x string) string {
		return `<presence id="` + id + `" from="` + from + `" to="` + to + `">` + x + `</presence>`
	}
	const muc = `<x xmlns="http://jabber.org/protocol/muc"/>`
	for i, s := range []struct{ in, out string }{
		0: { // a join: occupants, self-presence, history, subject
			in: join("j0", pc, ops+"/al", muc),
			out: occupant("Bob", pc) + self("al", pc, "", "participant") +
				`<message type="groupchat" id="h1" from="` + ops + `/Bob" to="` + pc + `"><body>deploy done</body><stanza-id xmlns="urn:xmpp:sid:0" id="h1" by="` + ops + `"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="` + ops + `"></delay></message>` +
				`<message type="groupchat" id="h2" from="` + ops + `/Bob" to="` + pc + `"><body>https://gw/m/1.jpg</body><replace xmlns="urn:xmpp:message-correct:0" id="h1"></replace><stanza-id xmlns="urn:xmpp:sid:0" id="h2" by="` + ops + `"></stanza-id><delay xmlns="urn:xmpp:delay" STAMP from="` + ops + `"></delay><x xmlns="jabber:x:oob"><url>https://gw/m/1.jpg</url></x></message>` +
				subject(pc)},
		1: { // a presence update of a joined resource: its self-presence
			in:  join("p1", pc, ops+"/al", ""),
			out: self("al", pc, "", "participant")},
		2: { // the user writes: relayed, reflected to each joined resource
			in:  `<message type="groupchat" id="u1" from="` + pc + `" to="` + ops + `"><body>on it</body></message>`,
			out: `<message type="groupchat" id="u1" from="` + ops + `/al" to="` + pc + `"><body>on it</body></message>`},
		3: { // a chat state: passed to the core, nothing reflected
			in: `<message type="groupchat" id="u2" from="` + pc + `" to="` + ops + `"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`},
		4: { // from a resource that has not joined
			in:  `<message type="groupchat" id="u3" from="alice@example.test/phone" to="` + ops + `"><body>hi</body></message>`,
			out: refusal("message", "u3", ops, "alice@example.test/phone", "modify", "not-acceptable", "join the room before writing to it")},
		5: { // another user's group: the same answer as an unlinked one's
			in: join("j5", pc, "+15550003334@tg.example.test/al", muc),
			out: refusal("presence", "j5", "+15550003334@tg.example.test/al", pc, "cancel", "item-not-found",
				"+15550003334 is not a Telegram group linked to alice@example.test; send &#34;link&#34; to tg.example.test to link one")},
		6: { // an unlinked group
			in: join("j6", pc, "+15550003339@tg.example.test/al", muc),
			out: refusal("presence", "j6", "+15550003339@tg.example.test/al", pc, "cancel", "item-not-found",
				"+15550003339 is not a Telegram group linked to alice@example.test; send &#34;link&#34; to tg.example.test to link one")},
		7: { // someone not allowed
			in:  join("j7", "mallory@evil.test/x", ops+"/m", muc),
			out: refusal("presence", "j7", ops+"/m", "mallory@evil.test/x", "auth", "forbidden", "mallory@evil.test may not use this gateway")},
		8: { // a one-to-one chat is no room
			in:  join("j8", pc, "+15550002222@tg.example.test/al", muc),
			out: refusal("presence", "j8", "+15550002222@tg.example.test/al", pc, "cancel", "item-not-found", "only a group can be joined as a room")},
		9: { // ...but a join element to its bare JID is no join
			in: join("j9", pc, "+15550002222@tg.example.test", muc)},
		10: { // a member's nick is refused
			in:  join("j10", "alice@example.test/phone", ops+"/Bob", muc),
			out: refusal("presence", "j10", ops+"/Bob", "alice@example.test/phone", "cancel", "conflict", "a member of the group goes by that nick; choose another")},
		11: { // a bad value in the join: bad-request, and nothing else
			in: join("j11", "alice@example.test/phone", ops+"/al", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="many"/></x>`),
			out: `<presence type="error" id="j11" from="` + ops + `/al" to="alice@example.test/phone"><error type="modify"><bad-request ` + errNS +
				`></bad-request><text ` + errNS + `>a value in this stanza is not valid</text></error></presence>`},
		12: { // another resource joins without history
			in:  join("j12", "alice@example.test/phone", ops+"/al", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x>`),
			out: occupant("Bob", "alice@example.test/phone") + self("al", "alice@example.test/phone", "", "participant") + subject("alice@example.test/phone")},
		13: { // reflected to both
			in: `<message type="groupchat" id="u4" from="` + pc + `" to="` + ops + `"><body>both</body></message>`,
			out: `<message type="groupchat" id="u4" from="` + ops + `/al" to="alice@example.test/pc"><body>both</body></message>` +
				`<message type="groupchat" id="u4" from="` + ops + `/al" to="alice@example.test/phone"><body>both</body></message>`},
		14: { // the server bounces a message to the phone: it is gone
			in: `<message type="error" id="g9" from="alice@example.test/phone" to="` + ops + `/Bob"><error type="cancel"><service-unavailable ` + errNS + `/></error></message>`},
		15: {
			in:  `<message type="groupchat" id="u5" from="alice@example.test/phone" to="` + ops + `"><body>hi</body></message>`,
			out: refusal("message", "u5", ops, "alice@example.test/phone", "modify", "not-acceptable", "join the room before writing to it")},
		16: { // a bounced presence removes the pc too
			in: `<presence type="error" from="` + pc + `" to="` + ops + `"><error type="cancel"><gone ` + errNS + `/></error></presence>`},
		17: { // leaving when not in the room: nothing
			in: `<presence type="unavailable" from="` + pc + `" to="` + ops + `/al"/>`},
		18: {in: join("j18", pc, ops+"/al", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x>`),
			out: occupant("Bob", pc) + self("al", pc, "", "participant") + subject(pc)},
		19: { // leaving
			in:  `<presence type="unavailable" from="` + pc + `" to="` + ops + `/al"/>`,
			out: self("al", pc, "unavailable", "none")},
		20: { // a private message to a member: refused, not relayed
			in:  `<message type="chat" id="pm1" from="` + pc + `" to="` + ops + `/Bob"><body>only for Bob</body></message>`,
			out: refusal("message", "pm1", ops+"/Bob", pc, "cancel", "feature-not-implemented", "private messages to group members are not supported")},
		21: { // XEP-0410 self-ping of a client that left: not-acceptable, so that it joins again
			in:  `<iq type="get" id="sp1" from="` + pc + `" to="` + ops + `/al"><ping xmlns="urn:xmpp:ping"/></iq>`,
			out: refusal("iq", "sp1", ops+"/al", pc, "cancel", "not-acceptable", "not in the room under this nick")},
		22: {in: join("j22", pc, ops+"/al", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x>`),
			out: occupant("Bob", pc) + self("al", pc, "", "participant") + subject(pc)},
		23: { // ...once joined: a result
			in:  `<iq type="get" id="sp2" from="` + pc + `" to="` + ops + `/al"><ping xmlns="urn:xmpp:ping"/></iq>`,
			out: `<iq type="result" id="sp2" from="` + ops + `/al" to="` + pc + `"></iq>`},
		24: { // ...and of another's nick: not-acceptable
			in:  `<iq type="get" id="sp3" from="` + pc + `" to="` + ops + `/Bob"><ping xmlns="urn:xmpp:ping"/></iq>`,
			out: refusal("iq", "sp3", ops+"/Bob", pc, "cancel", "not-acceptable", "not in the room under this nick")},
		25: { // a join without a nick: jid-malformed (XEP-0045 7.2.1)
			in:  join("j25", pc, ops, muc),
			out: refusal("presence", "j25", ops, pc, "modify", "jid-malformed", "join with a nick: room/nick")},
	} {
		if got := stampRE.ReplaceAllString(dispatch(t, f, r, s.in), "STAMP"); got != s.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, s.out)
		}
	}
	if want := []string{"on it", "both"}; !slices.Equal(f.relayed, want) {
		t.Errorf("relayed %q, want %q", f.relayed, want)
	}
	// The user's own messages are in the history, from the user's nick.
	h, err := f.Store().Rooms().RoomHistory(ctx, "tg", "+15550003333", 10)
	if err != nil || len(h) != 4 || h[2].Sender != "al" || h[2].Body != "on it" || h[3].StanzaID != "u4" {
		t.Errorf("history %+v, %v", h, err)
	}
}

// A room's disco features are declared on its routes, for rooms only; a
// transport without rooms gets no module.
func TestFeatures(t *testing.T) {
	f, m := newFake(t)
	r := router.New(f.Logger(), m.Routes()...)
	if got, want := strings.Join(r.Features(router.Room), " "),
		"http://jabber.org/protocol/muc http://jabber.org/protocol/muc#self-ping-optimization muc_membersonly muc_nonanonymous muc_persistent muc_unsecured urn:xmpp:mam:2"; got != want {
		t.Errorf("room features %q, want %q", got, want)
	}
	if got := r.Features(router.Contact | router.Gateway | router.Occupant); len(got) != 0 {
		t.Errorf("features elsewhere: %q", got)
	}
	if New(plain{}) != nil {
		t.Error("a transport without rooms got a module")
	}
}

// plain is a Core whose transport has no rooms.
type plain struct{ core.Core }

func (plain) Transport() transports.Transport { return &transporttest.Transport{TransportName: "sms"} }

// How the sink shows a group's inbound messages (core.RoomSink): members
// by their nicks, to the user's resources in the room, the history.
func TestRoomInbound(t *testing.T) {
	f, m := newFake(t)
	ctx := context.Background()
	room := jid.MustParse(ops)
	r := router.New(f.Logger(), m.Routes()...)
	if out := dispatch(t, f, r, `<presence from="`+pc+`" to="`+ops+`/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`); !strings.Contains(out, "<subject>") {
		t.Fatalf("join: %s", out)
	}
	alice := []string{"alice@example.test"}
	for i, c := range []struct {
		in    transports.Inbound
		users []string
		want  core.RoomDelivery
	}{
		0: {transports.Inbound{From: "+15550003333", ID: "g1", Group: true, Sender: "Bob", SenderID: "1", Body: "hi"}, alice,
			core.RoomDelivery{Sender: "Bob", From: ops + "/Bob", To: []string{pc}, Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "Bob", StanzaID: "g1", Body: "hi"}}}},
		1: { // another Bob
			transports.Inbound{From: "+15550003333", ID: "g2", Group: true, Sender: "Bob", SenderID: "2", Body: "hello", Replaces: "g0"}, alice,
			core.RoomDelivery{Sender: "Bob (2)", From: ops + "/Bob (2)", To: []string{pc}, Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "Bob (2)", StanzaID: "g2", Body: "hello", Replaces: "g0"}}}},
		2: { // named like the user's nick
			transports.Inbound{From: "+15550003333", ID: "g3", Group: true, Sender: "al", SenderID: "3", Media: []string{"u1", "u2"}}, alice,
			core.RoomDelivery{Sender: "al (2)", From: ops + "/al (2)", To: []string{pc}, Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "al (2)", StanzaID: "g3", Body: "u1", OOB: "u1"},
					{Room: "+15550003333", Sender: "al (2)", StanzaID: "g3-m1", Body: "u2", OOB: "u2"}}}},
		3: { // text and an attachment; a name that is no resource
			transports.Inbound{From: "+15550003333", ID: "g4", Group: true, Sender: "\u0000", SenderID: "4", Body: "see", Media: []string{"u3"}}, alice,
			core.RoomDelivery{Sender: "member", From: ops + "/member", To: []string{pc}, Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "member", StanzaID: "g4", Body: "see"},
					{Room: "+15550003333", Sender: "member", StanzaID: "g4-m0", Body: "u3", OOB: "u3"}}}},
		4: { // the group itself; a reaction is not kept
			transports.Inbound{From: "+15550003333", ID: "g5", Group: true, ReactTo: "g1", Reactions: []string{"👍"}}, alice,
			core.RoomDelivery{Sender: "", From: ops, To: []string{pc}, Keep: roomHistory}},
		5: { // to several users: in the room of none
			transports.Inbound{From: "+15550003333", ID: "g6", Group: true, Sender: "Bob", SenderID: "1", Body: "x"}, []string{"alice@example.test", "bob@example.test"},
			core.RoomDelivery{Sender: "Bob", From: ops + "/Bob", Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "Bob", StanzaID: "g6", Body: "x"}}}},
		6: { // not a group message: its sender is kept as it is
			transports.Inbound{From: "+15550003333", ID: "g7", Sender: "Bob", Body: "y"}, []string{"bob@example.test"},
			core.RoomDelivery{Sender: "Bob", From: ops + "/Bob", Keep: roomHistory,
				History: []mapping.RoomEntry{{Room: "+15550003333", Sender: "Bob", StanzaID: "g7", Body: "y"}}}},
	} {
		got, err := m.RoomInbound(ctx, c.in, room, c.users)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got.Done != nil {
			got.Done()
		}
		if !equal(got, c.want) {
			t.Errorf("%d: %+v\nwant %+v", i, got, c.want)
		}
	}
}

func equal(a, b core.RoomDelivery) bool {
	return a.Sender == b.Sender && a.From == b.From && slices.Equal(a.To, b.To) && a.Keep == b.Keep && slices.Equal(a.History, b.History)
}
