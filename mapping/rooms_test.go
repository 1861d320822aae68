package mapping

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A room keeps its last messages and the members who spoke, with the
// stanzas queued in the same transaction; a duplicate keeps nothing.
func TestRoomHistory(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		for i := range 5 {
			sender := []string{"Bob", "Carol", "Bob", "Ann", "Bob"}[i]
			e := RoomEntry{Room: "-100", Sender: sender, StanzaID: fmt.Sprint("m", i), Body: fmt.Sprint("text ", i)}
			if i == 4 {
				e.OOB, e.Replaces = "https://x/y", "m3"
			}
			ids, dup, err := s.Rooms().AcceptRoom(ctx, "tg", fmt.Sprint("in:", i), []RoomEntry{e}, 3, []byte("<m/>"))
			if err != nil || dup || len(ids) != 1 {
				t.Fatalf("%d: %v %v %v", i, ids, dup, err)
			}
		}
		if _, dup, err := s.Rooms().AcceptRoom(ctx, "tg", "in:4", []RoomEntry{{Room: "-100", Sender: "Zed", StanzaID: "dup"}}, 3); err != nil || !dup {
			t.Fatalf("duplicate: %v %v", dup, err)
		}
		// Another room is apart.
		if _, _, err := s.Rooms().AcceptRoom(ctx, "tg", "in:other", []RoomEntry{{Room: "-200", Sender: "Eve", StanzaID: "o"}}, 3); err != nil {
			t.Fatal(err)
		}
		h, err := s.Rooms().RoomHistory(ctx, "tg", "-100", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range h {
			ids = append(ids, e.StanzaID)
		}
		if !slices.Equal(ids, []string{"m2", "m3", "m4"}) || h[2].OOB != "https://x/y" || h[2].Replaces != "m3" || h[2].Sender != "Bob" || h[0].Created == 0 {
			t.Errorf("history %+v", h)
		}
		if h, _ := s.Rooms().RoomHistory(ctx, "tg", "-100", 2); len(h) != 2 || h[0].StanzaID != "m3" {
			t.Errorf("last 2: %+v", h)
		}
		members, err := s.Rooms().RoomMembers(ctx, "tg", "-100")
		if err != nil || !slices.Equal(members, []string{"Ann", "Bob", "Carol"}) {
			t.Errorf("members %q, %v", members, err)
		}
		if q, _ := s.ToXMPP().Pending(ctx, "tg", 100); len(q) != 5 {
			t.Errorf("%d stanzas queued", len(q))
		}
	})
}

// The user's own messages are kept in order with the members', count
// toward the room's limit, are kept once when resent, and do not make
// the user a member.
func TestKeepOwnRoomMessage(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if _, _, err := s.Rooms().AcceptRoom(ctx, "tg", "in:1", []RoomEntry{{Room: "-100", Sender: "Bob", StanzaID: "m1", Body: "hi"}}, 3); err != nil {
			t.Fatal(err)
		}
		own := RoomEntry{Room: "-100", Sender: "al", StanzaID: "u1", Body: "on it"}
		for _, resent := range []bool{false, true} { // a resend is kept once
			if err := s.Rooms().KeepOwnRoomMessage(ctx, "tg", own, 3, resent); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Rooms().AcceptRoom(ctx, "tg", "in:2", []RoomEntry{{Room: "-100", Sender: "Carol", StanzaID: "m2", Body: "ok"}}, 3); err != nil {
			t.Fatal(err)
		}
		if err := s.Rooms().KeepOwnRoomMessage(ctx, "tg", RoomEntry{Room: "-100", Sender: "al", StanzaID: "u2", Body: "on it!", Replaces: "u1"}, 3, false); err != nil {
			t.Fatal(err)
		}
		h, err := s.Rooms().RoomHistory(ctx, "tg", "-100", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range h {
			got = append(got, e.Sender+":"+e.StanzaID)
		}
		if !slices.Equal(got, []string{"al:u1", "Carol:m2", "al:u2"}) || h[2].Replaces != "u1" || h[0].Body != "on it" || h[0].Created == 0 {
			t.Errorf("history %+v", h)
		}
		members, err := s.Rooms().RoomMembers(ctx, "tg", "-100")
		if err != nil || !slices.Equal(members, []string{"Bob", "Carol"}) {
			t.Errorf("members %q, %v", members, err)
		}
	})
}

// A client numbering stanza ids from 1 on each connection sends two
// messages with id "1": both are kept, and so is the same text under it
// again when it is no resend; a resend whose first delivery was cut short
// before it was kept is kept, once. Each one's copies for the occupants
// are queued with it, a resend's too.
func TestKeepOwnRoomMessageReusedID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		for i, c := range []struct {
			body   string
			resent bool
		}{
			{"to +15557654321: on my way", false},
			{"to +15550004444: db2 restarted", false},
			{"to +15550004444: db2 restarted", true}, // its resend
			{"to +15557654321: on my way", false},    // the same text again, later
			{"to +15550005555: lost", true},          // resent; the first was not kept
			{"to +15550005555: lost", true},
		} {
			copies := []byte(fmt.Sprintf(`<message id="c%d"/>`, i))
			if err := s.Rooms().KeepOwnRoomMessage(ctx, "sms", RoomEntry{Room: "oncall", Sender: "alice", StanzaID: "1", Body: c.body}, 500, c.resent, copies); err != nil {
				t.Fatalf("%d: %v", i, err)
			}
		}
		// Its copies are queued with it, kept again or not.
		q, err := s.ToXMPP().Pending(ctx, "sms", 10)
		if err != nil {
			t.Fatal(err)
		}
		var queued []string
		for _, st := range q {
			queued = append(queued, string(st.Stanza))
		}
		if want := `<message id="c0"/><message id="c1"/><message id="c2"/><message id="c3"/><message id="c4"/><message id="c5"/>`; strings.Join(queued, "") != want {
			t.Errorf("queued %q\nwant %s", queued, want)
		}
		h, err := s.Rooms().RoomHistory(ctx, "sms", "oncall", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range h {
			got = append(got, e.Body)
		}
		if want := []string{"to +15557654321: on my way", "to +15550004444: db2 restarted", "to +15557654321: on my way", "to +15550005555: lost"}; !slices.Equal(got, want) {
			t.Errorf("history %q\nwant %q", got, want)
		}
	})
}

// Members are told apart by their ids: a second member of the same name,
// or one named like the user's nick, gets a suffix, and each keeps its
// nick; the user's nicks are not members.
func TestRoomNicks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		user := func(nick string, want bool) {
			t.Helper()
			if ok, err := s.Rooms().ClaimUserNick(ctx, "tg", "-100", "alice@x.test", nick); ok != want || err != nil {
				t.Errorf("user takes %q: %v, %v; want %v", nick, ok, err, want)
			}
		}
		user("al", true)
		steps := []struct{ member, name, want string }{
			0: {"1", "Bob", "Bob"},
			1: {"2", "Bob", "Bob (2)"},
			2: {"1", "Bob", "Bob"},
			3: {"2", "Bob", "Bob (2)"},
			4: {"3", "al", "al (2)"},
			5: {"xmpp:alice@x.test", "al", "al (3)"}, // an id like the user's is not the user
			6: {"4", "Bob (2)", "Bob (2) (2)"},
			7: {"5", "Carol", "Carol"},
		}
		for i, st := range steps {
			if got, err := s.Rooms().RoomNick(ctx, "tg", "-100", st.member, st.name); got != st.want || err != nil {
				t.Errorf("%d: member %s named %q: %q, %v; want %q", i, st.member, st.name, got, err, st.want)
			}
		}
		user("al", true)     // still the user's
		user("Carol", false) // a member's
		if got, _ := s.Rooms().RoomNick(ctx, "tg", "-200", "3", "al"); got != "al" {
			t.Errorf("in another room: %q", got)
		}
		// A member seen before ids were kept: the first member of that name
		// takes the nick over.
		if _, _, err := s.Rooms().AcceptRoom(ctx, "tg", "in:old", []RoomEntry{{Room: "-100", Sender: "Dan", StanzaID: "o"}}, 3); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Rooms().RoomNick(ctx, "tg", "-100", "6", "Dan"); got != "Dan" {
			t.Errorf("old member: %q", got)
		}
		if got, _ := s.Rooms().RoomNick(ctx, "tg", "-100", "7", "Dan"); got != "Dan (2)" {
			t.Errorf("second Dan: %q", got)
		}
		members, err := s.Rooms().RoomMembers(ctx, "tg", "-100")
		want := []string{"Bob", "Bob (2)", "Bob (2) (2)", "Carol", "Dan", "Dan (2)", "al (2)", "al (3)"}
		if err != nil || !slices.Equal(members, want) {
			t.Errorf("members %q, %v; want %q", members, err, want)
		}
	})
}

// A room's entry is found by its stanza id, and a nick by who holds it.
func TestRoomLookups(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		nick, err := s.Rooms().RoomNick(ctx, "sms", "oncall", "+15557654321", "Dana")
		if err != nil || nick != "Dana" {
			t.Fatalf("nick %q %v", nick, err)
		}
		if ok, err := s.Rooms().ClaimUserNick(ctx, "sms", "oncall", "alice@example.test", "alice"); err != nil || !ok {
			t.Fatalf("claim %v %v", ok, err)
		}
		if _, _, err := s.Rooms().AcceptRoom(ctx, "sms", "in:SM1", []RoomEntry{{Room: "oncall", Sender: "Dana", StanzaID: "SM1", Body: "help"}}, 10); err != nil {
			t.Fatal(err)
		}
		e, ok, err := s.Rooms().RoomEntryOf(ctx, "sms", "oncall", "SM1")
		if err != nil || !ok || e.Sender != "Dana" || e.Body != "help" {
			t.Errorf("entry %+v %v %v", e, ok, err)
		}
		if _, ok, err := s.Rooms().RoomEntryOf(ctx, "sms", "other", "SM1"); err != nil || ok {
			t.Errorf("another room's entry: %v %v", ok, err)
		}
		if m, ok, err := s.Rooms().NickHolder(ctx, "sms", "oncall", "Dana"); err != nil || !ok || m != "+15557654321" {
			t.Errorf("Dana is held by %q %v %v", m, ok, err)
		}
		if m, ok, err := s.Rooms().NickHolder(ctx, "sms", "oncall", "alice"); err != nil || ok {
			t.Errorf("a user's nick is held by a member: %q %v %v", m, ok, err)
		}
	})
}
