package component

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// inboxSMS is an SMS transport with one team inbox, oncall, whose member
// is alice.
type inboxSMS struct{ transporttest.Transport }

func (*inboxSMS) Inboxes() []transports.Inbox {
	return []transports.Inbox{{Account: "+15550009999", Room: "oncall", Members: []string{"alice@example.test"}}}
}

// inboxGateway is a gateway for sms.example.test whose transport has the
// team inbox oncall; alice has a number of her own.
func inboxGateway(t *testing.T) (*Gateway, *mapping.Store) {
	t.Helper()
	g, store, _ := inboxGatewayAt(t)
	return g, store
}

// inboxGatewayAt is inboxGateway, and returns the path of its SQLite file.
func inboxGatewayAt(t *testing.T) (*Gateway, *mapping.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gw.db")
	store, err := mapping.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &inboxSMS{Transport: transporttest.Transport{TransportName: "sms", Accts: map[string]transports.Addr{"alice@example.test": "+15550001111"}}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "sms", Name: "SMS", Prompt: "Phone number"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("sms.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	return g, store, path
}

// memberRooms is a transport users sign in to whose +1555000333x contacts
// are groups every signed-in account is in, named Ops
// (transports.MemberRooms).
type memberRooms struct{ signInFake }

func (*memberRooms) IsRoom(a transports.Addr) bool {
	return strings.HasPrefix(string(a), "+1555000333")
}
func (*memberRooms) RoomHistory() int { return 20 }
func (*memberRooms) Member(context.Context, string, transports.Addr) (string, bool, error) {
	return "Ops", true, nil
}

const (
	// contactInfo is a contact's disco#info, what anyone who may not see a
	// room gets for it, as for any other JID.
	contactInfo = `<query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="phone"></identity><feature var="http://jabber.org/protocol/disco#info"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query>`
	// roomFeatures are a room's disco#info features.
	roomFeatures = `<feature var="http://jabber.org/protocol/disco#info"></feature><feature var="http://jabber.org/protocol/muc"></feature><feature var="http://jabber.org/protocol/muc#self-ping-optimization"></feature><feature var="muc_membersonly"></feature><feature var="muc_nonanonymous"></feature><feature var="muc_persistent"></feature><feature var="muc_unsecured"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:mam:2"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query>`
)

// discoInfoOf is the disco#info request from from to to, and its
// answer's start.
func discoInfoOf(from, to string) (in, answer string) {
	return `<iq type="get" id="d1" from="` + from + `" to="` + to + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		`<iq type="result" id="d1" from="` + to + `" to="` + from + `">`
}

// A team inbox's room answers disco#info as a room to its members, and as
// a contact to anyone else: an allowed user who is no member, a stranger.
func TestInboxRoomDisco(t *testing.T) {
	g, _ := inboxGateway(t)
	room := `<query xmlns="http://jabber.org/protocol/disco#info"><identity category="conference" type="text" name="Team inbox +15550009999"></identity>` + roomFeatures
	for i, tt := range []struct{ from, want string }{
		0: {"alice@example.test/pc", room},
		1: {"bob@example.test/pc", contactInfo},
		2: {"mallory@evil.test/x", contactInfo},
	} {
		in, start := discoInfoOf(tt.from, "oncall@sms.example.test")
		if got, want := handle(t, g, in), start+tt.want+`</iq>`; got != want {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, want)
		}
	}
}

// A group of the user's own account (telegram-user) answers disco#info as
// a room to a user with a resource in it, and as a contact to anyone else,
// the same user before joining included: whether an account is in a group
// is Telegram's to say, which the read loop never asks.
func TestMemberRoomDisco(t *testing.T) {
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &memberRooms{signInFake{Transport: transporttest.Transport{TransportName: "tg", Accts: map[string]transports.Addr{
		"alice@example.test": "+15550000001", "bob@example.test": "+15550000002"}}}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "User id"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	const group = "+15550003333@tg.example.test"
	room := `<query xmlns="http://jabber.org/protocol/disco#info"><identity category="conference" type="text" name="Ops"></identity>` + roomFeatures
	steps := []struct{ from, want string }{
		0: {"alice@example.test/pc", contactInfo}, // before she joins
		1: {"alice@example.test/pc", room},
		2: {"alice@example.test/phone", room}, // her other resource
		3: {"bob@example.test/pc", contactInfo},
		4: {"mallory@evil.test/x", contactInfo},
		5: {"alice@example.test/pc", contactInfo}, // once she left
	}
	for i, tt := range steps {
		switch i {
		case 1:
			if out := handle(t, g, `<presence from="alice@example.test/pc" to="`+group+`/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); !strings.Contains(out, "<subject>Ops</subject>") {
				t.Fatalf("join: %s", out)
			}
		case 5:
			handle(t, g, `<presence type="unavailable" from="alice@example.test/pc" to="`+group+`/al"/>`)
		}
		in, start := discoInfoOf(tt.from, group)
		if got, want := handle(t, g, in), start+tt.want+`</iq>`; got != want {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, want)
		}
	}
}
