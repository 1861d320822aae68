//go:build integration

package main

import (
	"strings"
	"testing"

	"xmppgw/internal/xmpptest"
)

// A Telegram group linked to alice is a room she can join: members who
// spoke are occupants, history and subject come on join, members' messages
// arrive as groupchat, and hers go to Telegram and are reflected once.
func TestMUCTelegramGroupRoom(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"-1001234": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		room := "-1001234@telegram.example.test"
		inRoom := func(s xmpptest.Stanza) bool {
			return strings.HasPrefix(s.From, room+"/") || s.From == room && s.Type == "groupchat"
		}

		// Before alice joins, the group is a one-to-one contact.
		e.tg.UserSends(tgGroup, tgBob, "before join")
		got := nextWhere(t, alice, "the group message as chat", from(room, "message", "chat"))
		if got.Body != "Bob: before join" {
			t.Errorf("before join: %q", got.Body)
		}

		if err := alice.Send(ctx, `<presence to="`+room+`/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
			t.Fatal(err)
		}
		occ := nextWhere(t, alice, "Bob's occupant presence", inRoom)
		if occ.Name != "presence" || occ.From != room+"/Bob" || !strings.Contains(occ.XML, `role="participant"`) {
			t.Fatalf("first after join: %s", occ.XML)
		}
		self := nextWhere(t, alice, "the self-presence", inRoom)
		if self.Name != "presence" || self.From != room+"/alice" || !strings.Contains(self.XML, `code="110"`) {
			t.Fatalf("self-presence: %s", self.XML)
		}
		hist := nextWhere(t, alice, "the history", inRoom)
		if hist.Name != "message" || hist.Type != "groupchat" || hist.From != room+"/Bob" || hist.Body != "before join" ||
			!strings.Contains(hist.XML, `urn:xmpp:delay`) {
			t.Fatalf("history: %s", hist.XML)
		}
		subj := nextWhere(t, alice, "the subject", inRoom)
		if subj.Name != "message" || subj.From != room || subj.Subject != "Ops team" {
			t.Fatalf("subject: %s", subj.XML)
		}

		// A member speaks.
		e.tg.UserSends(tgGroup, tgBob, "live now")
		live := nextWhere(t, alice, "the live message", inRoom)
		if live.Name != "message" || live.Type != "groupchat" || live.From != room+"/Bob" || live.Body != "live now" {
			t.Fatalf("live: %s", live.XML)
		}

		// Alice writes: it reaches the group, and comes back to her once.
		if err := alice.Send(ctx, `<message type="groupchat" id="r1" to="`+room+`"><body>from xmpp</body></message>`); err != nil {
			t.Fatal(err)
		}
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil || sent[0].Chat.ID != tgGroup.ID || sent[0].Text != "from xmpp" {
			t.Fatalf("Telegram got %+v, %v", sent, err)
		}
		refl := nextWhere(t, alice, "the reflection", inRoom)
		if refl.Name != "message" || refl.Type != "groupchat" || refl.ID != "r1" || refl.From != room+"/alice" || refl.Body != "from xmpp" {
			t.Fatalf("reflection: %s", refl.XML)
		}
		e.tg.UserSends(tgGroup, tgBob, "marker")
		next := nextWhere(t, alice, "the marker", inRoom)
		if next.Body != "marker" {
			t.Fatalf("after the reflection: %s", next.XML)
		}

		// Leaving: the self-presence goes unavailable; the group is a contact again.
		if err := alice.Send(ctx, `<presence type="unavailable" to="`+room+`/alice"/>`); err != nil {
			t.Fatal(err)
		}
		gone := nextWhere(t, alice, "the unavailable self-presence", inRoom)
		if gone.Name != "presence" || gone.Type != "unavailable" || !strings.Contains(gone.XML, `code="110"`) {
			t.Fatalf("leave: %s", gone.XML)
		}
		e.tg.UserSends(tgGroup, tgBob, "after leave")
		got = nextWhere(t, alice, "the group message as chat again", from(room, "message", "chat"))
		if got.Body != "Bob: after leave" {
			t.Errorf("after leave: %q", got.Body)
		}

		// Joining again: the history has alice's own message, in order,
		// from her nick, and she is no occupant of her own.
		if err := alice.Send(ctx, `<presence to="`+room+`/alice"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="4"/></x></presence>`); err != nil {
			t.Fatal(err)
		}
		occ = nextWhere(t, alice, "Bob's occupant presence again", inRoom)
		if occ.Name != "presence" || occ.From != room+"/Bob" {
			t.Fatalf("first after rejoin: %s", occ.XML)
		}
		self = nextWhere(t, alice, "the self-presence again", inRoom)
		if self.Name != "presence" || self.From != room+"/alice" || !strings.Contains(self.XML, `code="110"`) {
			t.Fatalf("self-presence after rejoin: %s", self.XML)
		}
		for _, want := range []struct{ from, body string }{
			{"Bob", "live now"}, {"alice", "from xmpp"}, {"Bob", "marker"}, {"Bob", "after leave"},
		} {
			h := nextWhere(t, alice, "the history after rejoin", inRoom)
			if h.Name != "message" || h.Type != "groupchat" || h.From != room+"/"+want.from || h.Body != want.body ||
				!strings.Contains(h.XML, `urn:xmpp:delay`) {
				t.Fatalf("history after rejoin: want %s: %q, got %s", want.from, want.body, h.XML)
			}
		}
		subj = nextWhere(t, alice, "the subject again", inRoom)
		if subj.Name != "message" || subj.From != room || subj.Subject != "Ops team" {
			t.Fatalf("subject after rejoin: %s", subj.XML)
		}
	})
}
