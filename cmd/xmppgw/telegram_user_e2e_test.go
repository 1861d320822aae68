//go:build integration

package main

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gotd/td/tg"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/xmpptest"
)

// TestTelegramUser signs alice in to her own Telegram account from her XMPP
// client (phone, code, two-step password, each wrong answer named), then
// relays both ways through Prosody and the MTProto fake: her contacts
// come to her roster, her messages go out from her account, her contacts'
// come in, one she writes in the Telegram app is shown as hers, a message
// that came while the gateway was down is read with getDifference on
// restart, and logging out ends the session at Telegram.
func TestTelegramUser(t *testing.T) {
	e := startEnv(t, envOptions{tgUser: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice", LastName: "Liddell", Password: "hunter2"})
	carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	dave := mt.AddUser(tguserfake.User{Phone: "+15550003333", FirstName: "Dave", Username: "dave"})
	mt.AddContact(me.ID, carol.ID)
	mt.Post(dave.ID, tguserfake.Peer{User: me.ID}, "an old message, before the gateway", 0) // a dialog, not a contact
	carolJID := strconv.FormatInt(carol.ID, 10) + "@tg.example.test"
	daveJID := strconv.FormatInt(dave.ID, 10) + "@tg.example.test"

	ctx := testCtx(t)
	alice := e.login(t, "alice")
	n := 0
	step := func(fields string) xmpptest.Stanza {
		t.Helper()
		n++
		id := "login" + strconv.Itoa(n)
		form := ""
		if fields != "" {
			form = `<x xmlns="jabber:x:data" type="submit">` + fields + `</x>`
		}
		if err := alice.Send(ctx, `<iq type="set" id="`+id+`" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login" sessionid="s1">`+form+`</command></iq>`); err != nil {
			t.Fatal(err)
		}
		// What comes meanwhile (the contacts' subscription requests may
		// come before the last answer) is left for the test to read.
		var other []xmpptest.Stanza
		defer func() { alice.Unread(other...) }()
		return nextWhere(t, alice, id, func(s xmpptest.Stanza) bool {
			if s.Name == "iq" && s.ID == id {
				return true
			}
			other = append(other, s)
			return false
		})
	}
	field := func(name, value string) string {
		return `<field var="` + name + `"><value>` + value + `</value></field>`
	}
	noteRE := regexp.MustCompile(`<note[^>]* type="(\w+)"[^>]*>([^<]*)</note>`)
	note := func(s xmpptest.Stanza) string {
		if m := noteRE.FindStringSubmatch(s.XML); m != nil {
			return m[1] + ": " + html.UnescapeString(m[2])
		}
		return ""
	}
	asks := func(s xmpptest.Stanza, v string) bool {
		return strings.Contains(s.XML, `status="executing"`) && strings.Contains(s.XML, `var="`+v+`"`)
	}

	// Log in: each question in turn, each wrong answer named.
	if s := step(""); !asks(s, "phone") {
		t.Fatalf("first stage: %s", s.XML)
	}
	if s := step(field("phone", "not a number")); !asks(s, "phone") || !strings.Contains(note(s), `is not a phone number`) {
		t.Errorf("a bad phone number: %s", s.XML)
	}
	if s := step(field("phone", "+1 555 000 1111")); !asks(s, "code") {
		t.Fatalf("after the phone: %s", s.XML)
	}
	code := mt.LastCode("+15550001111")
	if code == "" {
		t.Fatal("the fake sent no code")
	}
	wrong := "00000"
	if code == wrong {
		wrong = "11111"
	}
	if s := step(field("code", wrong)); !asks(s, "code") || note(s) != "error: the code is wrong or expired" {
		t.Errorf("a wrong code: %s", s.XML)
	}
	if s := step(field("code", code)); !asks(s, "password") || !strings.Contains(s.XML, `type="text-private"`) {
		t.Fatalf("after the code (2FA): %s", s.XML)
	}
	if s := step(field("password", "wrong")); !asks(s, "password") || note(s) != "error: the password is wrong" {
		t.Errorf("a wrong password: %s", s.XML)
	}
	s := step(field("password", "hunter2"))
	if !strings.Contains(s.XML, `status="completed"`) ||
		note(s) != "info: You are logged in to Telegram as Alice Liddell (+15550001111). Your chats are being added to your contacts." {
		t.Fatalf("after the password: %s", s.XML)
	}
	if got := mt.Authorized(me.ID); got != 1 {
		t.Errorf("sessions at Telegram: %d, want 1", got)
	}

	// The dialog and the contact ask to join alice's roster, with names.
	want := map[string]string{carolJID: "Carol", daveJID: "Dave"}
	for len(want) > 0 {
		p := nextWhere(t, alice, "the contacts' subscription requests", func(s xmpptest.Stanza) bool {
			return s.Name == "presence" && s.Type == "subscribe"
		})
		nick, ok := want[p.From]
		if !ok || !strings.Contains(p.XML, `<nick xmlns="http://jabber.org/protocol/nick">`+nick+`</nick>`) {
			t.Errorf("a subscription request: %s", p.XML)
		}
		delete(want, p.From)
	}

	// Out: from alice's own account.
	if err := alice.Send(ctx, `<message type="chat" id="m1" to="`+carolJID+`"><body>hi Carol</body></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "alice's message at Telegram", func() bool {
		for _, m := range mt.Sent(me.ID) {
			if m.Text == "hi Carol" && m.Peer == (tguserfake.Peer{User: carol.ID}) {
				return true
			}
		}
		return false
	})

	// In: from a contact, and alice's own from the Telegram app.
	mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "hello Alice", 0)
	m := nextWhere(t, alice, "carol's message", from(carolJID, "message", "chat"))
	if m.Body != "hello Alice" {
		t.Errorf("carol's message: %s", m.XML)
	}
	mt.Post(me.ID, tguserfake.Peer{User: carol.ID}, "written on my phone", 0)
	m = nextWhere(t, alice, "alice's own message", from(carolJID, "message", "chat"))
	if m.Body != "[You, from another Telegram app] written on my phone" {
		t.Errorf("alice's own message: %s", m.XML)
	}

	// Down: what comes meanwhile is read with getDifference on restart.
	e.stop()
	mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "while you were away", 0)
	e.start(t)
	m = nextWhere(t, alice, "the message sent while the gateway was down", from(carolJID, "message", "chat"))
	if m.Body != "while you were away" {
		t.Errorf("after the restart: %s", m.XML)
	}
	if got := mt.Authorized(me.ID); got != 1 {
		t.Errorf("sessions at Telegram after the restart: %d, want 1 (the stored one)", got)
	}

	// Log out: the session ends at Telegram; messages are refused after.
	if err := alice.Send(ctx, `<iq type="set" id="out1" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="logout" action="execute"/></iq>`); err != nil {
		t.Fatal(err)
	}
	s = nextWhere(t, alice, "the logout", func(s xmpptest.Stanza) bool { return s.ID == "out1" })
	if note(s) != "info: You are logged out of Telegram; your session is deleted." {
		t.Errorf("logout: %s", s.XML)
	}
	waitFor(t, ctx, "the session to end at Telegram", func() bool { return mt.Authorized(me.ID) == 0 })
	if err := alice.Send(ctx, `<message type="chat" id="m2" to="`+carolJID+`"><body>still there?</body></message>`); err != nil {
		t.Fatal(err)
	}
	m = nextWhere(t, alice, "the refusal", func(s xmpptest.Stanza) bool { return s.ID == "m2" && s.Type == "error" })
	if !strings.Contains(m.XML, "<registration-required") || !strings.Contains(m.XML, "is not logged in to Telegram") {
		t.Errorf("a message after logout: %s", m.XML)
	}
}

// tgLogin signs c's user in as phone with password (or none), through the
// login command, and fails the test unless it completes.
func tgLogin(t *testing.T, e *env, c *xmpptest.Client, phone, password string) {
	t.Helper()
	tgLoginAt(t, e.mt, c, phone, password)
}

// tgLoginAt is tgLogin against the MTProto fake mt.
func tgLoginAt(t *testing.T, mt *tguserfake.Server, c *xmpptest.Client, phone, password string) {
	t.Helper()
	ctx := testCtx(t)
	// What comes meanwhile (the contacts' requests may come before the
	// last answer) is left for the test to read.
	var other []xmpptest.Stanza
	defer func() { c.Unread(other...) }()
	stage := func(id, form string) xmpptest.Stanza {
		t.Helper()
		if err := c.Send(ctx, `<iq type="set" id="`+id+`" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login">`+form+`</command></iq>`); err != nil {
			t.Fatal(err)
		}
		return nextWhere(t, c, id, func(s xmpptest.Stanza) bool {
			if s.Name == "iq" && s.ID == id {
				return true
			}
			other = append(other, s)
			return false
		})
	}
	answer := func(name, value string) string {
		return `<x xmlns="jabber:x:data" type="submit"><field var="` + name + `"><value>` + value + `</value></field></x>`
	}
	stage("tl1", "")
	stage("tl2", answer("phone", phone))
	s := stage("tl3", answer("code", mt.LastCode(phone)))
	if password != "" {
		s = stage("tl4", answer("password", password))
	}
	if !strings.Contains(s.XML, `status="completed"`) || !strings.Contains(s.XML, "You are logged in") {
		t.Fatalf("login of %s: %s", phone, s.XML)
	}
}

// TestTelegramUserFeatures relays each message feature both ways between
// alice's XMPP client and her Telegram account: edits (XEP-0308),
// deletions (XEP-0424), replies (XEP-0461), reactions (XEP-0444), typing
// (XEP-0085), read markers (XEP-0333), receipts on Telegram's acceptance
// (XEP-0184), a FLOOD_WAIT waited out, and a session Telegram revokes.
func TestTelegramUserFeatures(t *testing.T) {
	e := startEnv(t, envOptions{tgUser: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	picture := []byte("\x89PNG\r\n\x1a\ncarol's face")
	carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol", Photo: picture})
	mt.AddContact(me.ID, carol.ID)
	carolJID := strconv.FormatInt(carol.ID, 10) + "@tg.example.test"
	chat := tguserfake.Peer{User: carol.ID}
	box := func(id int) string { return strconv.FormatInt(me.ID, 10) + ":" + strconv.Itoa(id) }
	ctx := testCtx(t)
	alice := e.login(t, "alice")
	tgLogin(t, e, alice, "+15550001111", "")
	send := func(raw string) {
		t.Helper()
		if err := alice.Send(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	sent := func(what string, ok func(m tguserfake.Message) bool) tguserfake.Message {
		t.Helper()
		var found tguserfake.Message
		waitFor(t, ctx, what, func() bool {
			for _, m := range mt.Sent(me.ID) {
				if ok(m) {
					found = m
					return true
				}
			}
			return false
		})
		return found
	}
	fromCarol := func(what string, ok func(s xmpptest.Stanza) bool) xmpptest.Stanza {
		t.Helper()
		return nextWhere(t, alice, what, func(s xmpptest.Stanza) bool { return s.From == carolJID && s.Name == "message" && ok(s) })
	}

	// Carol's vCard: her name and her profile photo (XEP-0054).
	send(`<iq type="get" id="v1" to="` + carolJID + `"><vCard xmlns="vcard-temp"/></iq>`)
	v := nextWhere(t, alice, "carol's vCard", func(s xmpptest.Stanza) bool { return s.ID == "v1" })
	if !strings.Contains(v.XML, ">Carol</FN>") || !strings.Contains(v.XML, ">"+base64.StdEncoding.EncodeToString(picture)+"</BINVAL>") ||
		!strings.Contains(v.XML, ">image/png</TYPE>") {
		t.Errorf("carol's vCard: %s", v.XML)
	}

	// A receipt when Telegram takes the message; then its correction and
	// its deletion.
	send(`<message type="chat" id="a1" to="` + carolJID + `"><body>helo</body><request xmlns="urn:xmpp:receipts"/></message>`)
	a1 := sent("a1 at Telegram", func(m tguserfake.Message) bool { return m.Text == "helo" })
	fromCarol("a1's receipt", func(s xmpptest.Stanza) bool {
		return strings.Contains(s.XML, `<received xmlns="urn:xmpp:receipts" id="a1">`)
	})
	send(`<message type="chat" id="a2" to="` + carolJID + `"><body>hello</body><replace xmlns="urn:xmpp:message-correct:0" id="a1"/></message>`)
	sent("a1's correction", func(m tguserfake.Message) bool { return m.ID == a1.ID && m.Text == "hello" && m.Edited })
	send(`<message type="chat" id="a3" to="` + carolJID + `"><body>/me retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="a1"/></message>`)
	sent("a1's deletion", func(m tguserfake.Message) bool { return m.ID == a1.ID && m.Deleted })

	// Carol writes, corrects, and deletes; alice replies, reacts, types
	// and reads.
	c1 := mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "teh news", 0)
	fromCarol("carol's message", func(s xmpptest.Stanza) bool { return s.Body == "teh news" && s.ID == box(c1.ID) })
	mt.Edit(carol.ID, c1.ID, "the news")
	s := fromCarol("carol's correction", func(s xmpptest.Stanza) bool { return s.Body == "the news" })
	if !strings.Contains(s.XML, `<replace xmlns="urn:xmpp:message-correct:0" id="`+box(c1.ID)+`">`) {
		t.Errorf("carol's correction: %s", s.XML)
	}
	send(`<message type="chat" id="a4" to="` + carolJID + `"><body>thanks</body><reply xmlns="urn:xmpp:reply:0" id="` + box(c1.ID) + `" to="` + carolJID + `"/></message>`)
	a4 := sent("alice's reply", func(m tguserfake.Message) bool { return m.Text == "thanks" })
	if a4.ReplyTo != c1.ID {
		t.Errorf("alice's reply replies to %d, want %d", a4.ReplyTo, c1.ID)
	}
	send(`<message type="chat" id="a5" to="` + carolJID + `"><reactions xmlns="urn:xmpp:reactions:0" id="` + box(c1.ID) + `"><reaction>👍</reaction></reactions></message>`)
	waitFor(t, ctx, "alice's reaction at Telegram", func() bool {
		for _, m := range mt.History(me.ID, chat) {
			if m.ID == c1.ID && len(m.Reactions[me.ID]) == 1 && m.Reactions[me.ID][0] == "👍" {
				return true
			}
		}
		return false
	})
	send(`<message type="chat" to="` + carolJID + `"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	waitFor(t, ctx, "alice's typing at Telegram", func() bool { return mt.TypingSeen(me.ID, chat) > 0 })
	send(`<message type="chat" to="` + carolJID + `"><displayed xmlns="urn:xmpp:chat-markers:0" id="` + box(c1.ID) + `"/></message>`)
	waitFor(t, ctx, "alice's read mark at Telegram", func() bool { return mt.ReadUpTo(me.ID, chat) == c1.ID })

	mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "you're welcome", a4.ID)
	s = fromCarol("carol's reply", func(s xmpptest.Stanza) bool { return strings.HasSuffix(s.Body, "you're welcome") })
	if !regexp.MustCompile(`<reply xmlns="urn:xmpp:reply:0"[^>]* id="a4"`).MatchString(s.XML) {
		t.Errorf("carol's reply: %s", s.XML)
	}
	mt.React(carol.ID, a4.ID, "❤")
	s = fromCarol("carol's reaction", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "<reactions") })
	if !strings.Contains(s.XML, `<reactions xmlns="urn:xmpp:reactions:0" id="a4"><reaction xmlns="urn:xmpp:reactions:0">❤</reaction></reactions>`) {
		t.Errorf("carol's reaction: %s", s.XML)
	}
	mt.Delete(carol.ID, c1.ID)
	s = fromCarol("carol's deletion", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "<retract") })
	if !strings.Contains(s.XML, `<retract xmlns="urn:xmpp:message-retract:1" id="`+box(c1.ID)+`">`) {
		t.Errorf("carol's deletion: %s", s.XML)
	}

	// Carol types in Telegram: alice sees her composing.
	mt.Typing(carol.ID, tguserfake.Peer{User: me.ID})
	fromCarol("carol typing", func(s xmpptest.Stanza) bool {
		return strings.Contains(s.XML, `<composing xmlns="http://jabber.org/protocol/chatstates">`)
	})

	// Carol's Telegram status is her presence.
	mt.SetOnline(carol.ID, true)
	p := nextWhere(t, alice, "carol online", func(s xmpptest.Stanza) bool { return s.Name == "presence" && s.From == carolJID })
	if p.Type != "" || strings.Contains(p.XML, "<show") {
		t.Errorf("carol online: %s", p.XML)
	}
	mt.SetOnline(carol.ID, false)
	p = nextWhere(t, alice, "carol offline", func(s xmpptest.Stanza) bool { return s.Name == "presence" && s.From == carolJID })
	if !strings.Contains(p.XML, ">xa</show>") || !strings.Contains(p.XML, "Last seen ") {
		t.Errorf("carol offline: %s", p.XML)
	}

	// A FLOOD_WAIT is waited out: the message goes, late, once.
	mt.FloodWait(tg.MessagesSendMessageRequestTypeID, 2, 1)
	send(`<message type="chat" id="a6" to="` + carolJID + `"><body>after the wait</body></message>`)
	sent("the message after a FLOOD_WAIT", func(m tguserfake.Message) bool { return m.Text == "after the wait" })

	// A revoked session: alice is told, and may log in again.
	mt.Revoke(me.ID)
	send(`<message type="chat" id="a7" to="` + carolJID + `"><body>anyone?</body></message>`)
	m := nextWhere(t, alice, "the notice of the ended session", from("tg.example.test", "message", "chat"))
	if !strings.Contains(m.Body, "Telegram ended your session") || !strings.Contains(m.Body, `"Log in to Telegram"`) {
		t.Errorf("the notice: %s", m.XML)
	}
	tgLogin(t, e, alice, "+15550001111", "")
	waitFor(t, ctx, "the session again", func() bool { return mt.Authorized(me.ID) == 1 })
	n := 0
	for _, m := range mt.Sent(me.ID) {
		if m.Text == "after the wait" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message after a FLOOD_WAIT reached Telegram %d times, want 1", n)
	}
}

// TestTelegramUserRoster: where the server grants tg.example.test roster
// access (XEP-0356, Prosody's and ejabberd's mod_privilege), the account's
// contacts are pushed into alice's roster with their names, in the
// Telegram group, instead of asking to subscribe. ejabberd 23.01 grants
// the access but fails the push (processone/ejabberd#3942, see
// testRosterPushRefused): the contact then asks to subscribe instead.
func TestTelegramUserRoster(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		if server == xmpptest.ServerProsody {
			if err := xmpptest.PrivilegeInstalled(); err != nil {
				t.Fatalf("%v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
			}
		}
		e := startEnv(t, envOptions{server: server, tgUser: true, tgUserRoster: "both", noSMS: true})
		me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
		carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol", LastName: "<Jones>"})
		e.mt.AddContact(me.ID, carol.ID)
		carolJID := strconv.FormatInt(carol.ID, 10) + "@tg.example.test"
		alice := e.login(t, "alice")
		getRoster(t, alice, "r0")
		tgLogin(t, e, alice, "+15550001111", "")
		if server == xmpptest.ServerEjabberd {
			p := nextWhere(t, alice, "the fallback subscription request", from(carolJID, "presence", "subscribe"))
			if !strings.Contains(p.XML, `<nick xmlns="http://jabber.org/protocol/nick">Carol &lt;Jones&gt;</nick>`) {
				t.Errorf("carol's request: %s", p.XML)
			}
			return
		}
		push := nextWhere(t, alice, "the roster push", isRosterPush)
		if got := rosterItem(t, push, carolJID); got != "both Carol <Jones> [Telegram]" {
			t.Errorf("carol's roster item: %q in %s", got, push.XML)
		}
	})
}

// TestTelegramUserGroup: a basic group of alice's account is a contact, and
// a room she may join while her account is in the group: its members are
// occupants, messages go both ways, and its title is the subject. Bob,
// whose account is not in it, may not join.
func TestTelegramUserGroup(t *testing.T) {
	e := startEnv(t, envOptions{tgUser: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	mt.AddUser(tguserfake.User{Phone: "+15550005555", FirstName: "Bob"})
	carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	group := mt.AddGroup("Night shift", me.ID, carol.ID)
	mt.Post(carol.ID, tguserfake.Peer{Chat: group}, "welcome to the group", 0)
	room := "-" + strconv.FormatInt(group, 10) + "@tg.example.test"
	ctx := testCtx(t)
	alice, bob := e.login(t, "alice"), e.login(t, "bob")
	tgLogin(t, e, alice, "+15550001111", "")
	tgLogin(t, e, bob, "+15550005555", "")
	p := nextWhere(t, alice, "the group's subscription request", from(room, "presence", "subscribe"))
	if !strings.Contains(p.XML, ">Night shift</nick>") {
		t.Errorf("the group's request: %s", p.XML)
	}

	if err := alice.Send(ctx, `<presence to="`+room+`/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
		t.Fatal(err)
	}
	subj := nextWhere(t, alice, "the room's subject", func(s xmpptest.Stanza) bool { return s.Name == "message" && s.Type == "groupchat" && s.Subject != "" })
	if subj.Subject != "Night shift" {
		t.Errorf("subject: %s", subj.XML)
	}
	mt.Post(carol.ID, tguserfake.Peer{Chat: group}, "who has the pager?", 0)
	m := nextWhere(t, alice, "carol's groupchat message", func(s xmpptest.Stanza) bool {
		return s.Type == "groupchat" && s.Body == "who has the pager?"
	})
	if m.From != room+"/Carol" {
		t.Errorf("carol's message from %s: %s", m.From, m.XML)
	}
	if err := alice.Send(ctx, `<message type="groupchat" id="g1" to="`+room+`"><body>I do</body></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "alice's group message at Telegram", func() bool {
		for _, m := range mt.Sent(me.ID) {
			if m.Text == "I do" && m.Peer == (tguserfake.Peer{Chat: group}) {
				return true
			}
		}
		return false
	})
	if err := bob.Send(ctx, `<presence id="bj" to="`+room+`/bob"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
		t.Fatal(err)
	}
	r := nextWhere(t, bob, "bob's refusal", func(s xmpptest.Stanza) bool { return s.Name == "presence" && s.Type == "error" })
	if !strings.Contains(r.XML, "<registration-required") || !strings.Contains(r.XML, "is not in the group") {
		t.Errorf("bob's join: %s", r.XML)
	}
}

// TestTelegramUserMedia: a photo sent to alice's Telegram account reaches
// her as an XEP-0066 URL that the gateway serves (read with upload.getFile,
// passive, inline); a file she uploaded to her server's upload service is
// fetched by the gateway and sent with messages.sendMedia. Without
// media.fetch_allow, the same loopback URL is refused, naming no address.
func TestTelegramUserMedia(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		t.Run(map[bool]string{true: "allowed", false: "refused"}[allowed], func(t *testing.T) {
			o := envOptions{tgUser: true}
			if allowed {
				o.fetchAllow = []string{"127.0.0.1"}
			}
			e := startEnv(t, o)
			mt := e.mt
			me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
			carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
			mt.AddContact(me.ID, carol.ID)
			carolJID := strconv.FormatInt(carol.ID, 10) + "@tg.example.test"
			ctx := testCtx(t)
			alice := e.login(t, "alice")
			tgLogin(t, e, alice, "+15550001111", "")

			upload := []byte("\xff\xd8\xffalice's photo")
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/jpeg")
				w.Write(upload)
			}))
			t.Cleanup(up.Close)
			file := up.URL + "/upload/3f2a/cat.jpg"
			if err := alice.Send(ctx, `<message type="chat" id="p1" to="`+carolJID+`"><body>`+file+`</body><x xmlns="jabber:x:oob"><url>`+file+`</url></x></message>`); err != nil {
				t.Fatal(err)
			}
			if !allowed {
				m := nextWhere(t, alice, "the refusal", func(s xmpptest.Stanza) bool { return s.ID == "p1" && s.Type == "error" })
				if !strings.Contains(m.XML, "<not-acceptable") || !strings.Contains(m.XML, "address is not allowed") || strings.Contains(m.XML, "127.0.0.1") {
					t.Errorf("a loopback attachment: %s", m.XML)
				}
				for _, m := range mt.Sent(me.ID) {
					t.Errorf("Telegram got %+v", m)
				}
				return
			}
			var got tguserfake.Message
			waitFor(t, ctx, "the photo at Telegram", func() bool {
				for _, m := range mt.Sent(me.ID) {
					if m.Media != nil {
						got = m
						return true
					}
				}
				return false
			})
			if string(got.Media.Data) != string(upload) || got.Peer != (tguserfake.Peer{User: carol.ID}) {
				t.Errorf("Telegram got %+v", got)
			}

			photo := []byte("\x89PNG\r\n\x1a\ncarol's picture")
			mt.PostMedia(carol.ID, tguserfake.Peer{User: me.ID}, "look", tguserfake.File{Name: "pic.png", MIME: "image/png", Data: photo})
			caption := nextWhere(t, alice, "the caption", func(s xmpptest.Stanza) bool { return s.From == carolJID && s.Body == "look" })
			oob := nextWhere(t, alice, "the photo", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "jabber:x:oob") })
			m := oobURL.FindStringSubmatch(oob.XML)
			if m == nil {
				t.Fatalf("no URL: %s (after %s)", oob.XML, caption.XML)
			}
			u := html.UnescapeString(m[1])
			if !strings.HasPrefix(u, e.public+"/media/tg/") || strings.Contains(u, "alice") {
				t.Errorf("media URL %q", u)
			}
			if code, ctype, body := fetch(t, u); code != 200 || ctype != "image/png" || string(body) != string(photo) {
				t.Fatalf("GET %s: %d %q %q", u, code, ctype, body)
			}
			if code, _, _ := fetch(t, strings.Replace(u, "/media/tg/", "/media/tg/x", 1)); code != 404 {
				t.Errorf("a forged media URL: %d, want 404", code)
			}
		})
	}
}

// TestTelegramUserCarbons: where Prosody grants tg.example.test XEP-0356's
// message permission, a message alice writes in the Telegram app is sent
// as hers: every client of hers gets it as an XEP-0280 "sent" carbon, and
// the copy that comes back to the gateway is not relayed to Telegram again.
func TestTelegramUserCarbons(t *testing.T) {
	if err := xmpptest.PrivilegeInstalled(); err != nil {
		t.Fatalf("%v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
	}
	e := startEnv(t, envOptions{tgUser: true, tgUserRoster: "both", tgUserCarbons: true, noSMS: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	mt.AddContact(me.ID, carol.ID)
	carolJID := strconv.FormatInt(carol.ID, 10) + "@tg.example.test"
	ctx := testCtx(t)
	alice := e.login(t, "alice")
	if err := alice.Send(ctx, `<iq type="set" id="cb1"><enable xmlns="urn:xmpp:carbons:2"/></iq>`); err != nil {
		t.Fatal(err)
	}
	if s := nextWhere(t, alice, "carbons enabled", func(s xmpptest.Stanza) bool { return s.ID == "cb1" }); s.Type != "result" {
		t.Fatalf("enabling carbons: %s", s.XML)
	}
	tgLogin(t, e, alice, "+15550001111", "")

	mt.Post(me.ID, tguserfake.Peer{User: carol.ID}, "written on my phone", 0)
	c := nextWhere(t, alice, "the sent carbon", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "urn:xmpp:carbons:2") })
	if !strings.Contains(c.XML, "<sent") || !strings.Contains(c.XML, `from="alice@example.test"`) || !strings.Contains(c.XML, `to="`+carolJID+`"`) ||
		!strings.Contains(c.XML, ">written on my phone</body>") || strings.Contains(c.XML, "[You,") {
		t.Errorf("the carbon: %s", c.XML)
	}
	// The copy the server delivered to carol's JID, that is to the
	// gateway, was not sent to Telegram: a marker later is the only
	// message alice sent.
	if err := alice.Send(ctx, `<message type="chat" id="k1" to="`+carolJID+`"><body>marker</body></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the marker at Telegram", func() bool {
		sent := mt.Sent(me.ID)
		return len(sent) > 0 && sent[len(sent)-1].Text == "marker"
	})
	for _, m := range mt.Sent(me.ID) {
		if m.Text != "marker" {
			t.Errorf("sent to Telegram again: %+v", m)
		}
	}
}

// TestTelegramUserChannels: a supergroup and a broadcast channel, whose
// message ids and pts are their own, are rooms: their posts, edits and
// deletions reach alice in them, hers reach the supergroup, what comes
// while the gateway is down is read with getChannelDifference on restart,
// and a difference too long to read gives the latest messages without
// repeating those already relayed.
func TestTelegramUserChannels(t *testing.T) {
	e := startEnv(t, envOptions{tgUser: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	sg := mt.AddChannel("Ops", true, carol.ID, me.ID)
	bc := mt.AddChannel("Status page", false, carol.ID, me.ID)
	mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "before alice logged in", 0)
	sgRoom := "-100" + strconv.FormatInt(sg, 10) + "@tg.example.test"
	bcRoom := "-100" + strconv.FormatInt(bc, 10) + "@tg.example.test"
	ctx := testCtx(t)
	alice := e.login(t, "alice")
	tgLogin(t, e, alice, "+15550001111", "")
	names := map[string]string{sgRoom: "Ops", bcRoom: "Status page"}
	for asked := map[string]bool{}; len(asked) < len(names); { // in any order
		p := nextWhere(t, alice, "the rooms' subscription requests", func(s xmpptest.Stanza) bool {
			return s.Name == "presence" && s.Type == "subscribe" && names[s.From] != "" && !asked[s.From]
		})
		asked[p.From] = true
		if !strings.Contains(p.XML, ">"+names[p.From]+"</nick>") {
			t.Errorf("%s's request: %s", names[p.From], p.XML)
		}
	}
	for _, room := range []string{sgRoom, bcRoom} {
		if err := alice.Send(ctx, `<presence to="`+room+`/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
			t.Fatal(err)
		}
		nextWhere(t, alice, "the subject of "+room, func(s xmpptest.Stanza) bool {
			return s.Type == "groupchat" && s.Subject != "" && strings.HasPrefix(s.From, room)
		})
	}
	groupchat := func(what, body string) xmpptest.Stanza {
		t.Helper()
		return nextWhere(t, alice, what, func(s xmpptest.Stanza) bool { return s.Type == "groupchat" && s.Body == body })
	}

	// Both channels number their messages from 1: each is relayed.
	first := mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "supergroup hello", 0)
	post := mt.Post(carol.ID, tguserfake.Peer{Channel: bc}, "status: green", 0)
	got := map[string]string{} // body: from, in any order
	for len(got) < 2 {
		m := nextWhere(t, alice, "the supergroup's and the channel's messages", func(s xmpptest.Stanza) bool {
			return s.Type == "groupchat" && (s.Body == "supergroup hello" || s.Body == "status: green")
		})
		got[m.Body] = m.From
	}
	if got["supergroup hello"] != sgRoom+"/Carol" || got["status: green"] != bcRoom+"/Status page" {
		t.Errorf("the messages came from %v", got)
	}
	if first.ID != 2 || post.ID != 1 {
		t.Errorf("the channels' ids: %d and %d, want their own sequences (2 and 1)", first.ID, post.ID)
	}

	// Alice writes to the supergroup; the broadcast channel takes only
	// its creator's posts.
	if err := alice.Send(ctx, `<message type="groupchat" id="g1" to="`+sgRoom+`"><body>on it</body></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "alice's supergroup message at Telegram", func() bool {
		for _, m := range mt.Sent(me.ID) {
			if m.Text == "on it" && m.Peer == (tguserfake.Peer{Channel: sg}) {
				return true
			}
		}
		return false
	})

	// Alice corrects, then retracts, her message; she reacts to carol's.
	sgSent := func(what string, ok func(m tguserfake.Message) bool) {
		t.Helper()
		waitFor(t, ctx, what, func() bool {
			for _, m := range mt.History(me.ID, tguserfake.Peer{Channel: sg}) {
				if ok(m) {
					return true
				}
			}
			return false
		})
	}
	if err := alice.Send(ctx, `<message type="groupchat" id="g2" to="`+sgRoom+`"><body>on it, now</body><replace xmlns="urn:xmpp:message-correct:0" id="g1"/></message>`); err != nil {
		t.Fatal(err)
	}
	sgSent("alice's correction at Telegram", func(m tguserfake.Message) bool { return m.Text == "on it, now" && m.Edited })
	if err := alice.Send(ctx, `<message type="groupchat" id="g3" to="`+sgRoom+`"><reactions xmlns="urn:xmpp:reactions:0" id="`+strconv.FormatInt(me.ID, 10)+`:c`+strconv.FormatInt(sg, 10)+`:`+strconv.Itoa(first.ID)+`"><reaction>👍</reaction></reactions></message>`); err != nil {
		t.Fatal(err)
	}
	sgSent("alice's reaction at Telegram", func(m tguserfake.Message) bool { return m.ID == first.ID && len(m.Reactions[me.ID]) == 1 })
	if err := alice.Send(ctx, `<message type="groupchat" to="`+sgRoom+`"><displayed xmlns="urn:xmpp:chat-markers:0" id="`+strconv.FormatInt(me.ID, 10)+`:c`+strconv.FormatInt(sg, 10)+`:`+strconv.Itoa(first.ID)+`"/></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "alice's read mark in the supergroup", func() bool { return mt.ReadUpTo(me.ID, tguserfake.Peer{Channel: sg}) == first.ID })
	if err := alice.Send(ctx, `<message type="groupchat" id="g4" to="`+sgRoom+`"><retract xmlns="urn:xmpp:message-retract:1" id="g1"/></message>`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "alice's retraction at Telegram", func() bool {
		for _, m := range mt.Sent(me.ID) {
			if m.Peer == (tguserfake.Peer{Channel: sg}) && m.Text == "on it, now" {
				return m.Deleted
			}
		}
		return false
	})

	// A document in the channel, served by the gateway (read with
	// channels.getMessages, then upload.getFile).
	doc := []byte("%PDF-1.4 the runbook")
	mt.PostMedia(carol.ID, tguserfake.Peer{Channel: bc}, "", tguserfake.File{Name: "runbook.pdf", MIME: "application/pdf", Data: doc})
	oob := nextWhere(t, alice, "the channel's document", func(s xmpptest.Stanza) bool {
		return strings.HasPrefix(s.From, bcRoom) && strings.Contains(s.XML, "jabber:x:oob")
	})
	if m := oobURL.FindStringSubmatch(oob.XML); m == nil {
		t.Errorf("no URL: %s", oob.XML)
	} else if code, _, body := fetch(t, html.UnescapeString(m[1])); code != 200 || string(body) != string(doc) {
		t.Errorf("GET %s: %d %q", m[1], code, body)
	}

	// Edits and deletions in the supergroup.
	mt.EditIn(carol.ID, tguserfake.Peer{Channel: sg}, first.ID, "supergroup hello, edited")
	if m := groupchat("carol's edit", "supergroup hello, edited"); !strings.Contains(m.XML, "<replace") {
		t.Errorf("carol's edit: %s", m.XML)
	}
	mt.DeleteIn(carol.ID, tguserfake.Peer{Channel: sg}, first.ID)
	nextWhere(t, alice, "carol's deletion", func(s xmpptest.Stanza) bool {
		return s.Type == "groupchat" && strings.Contains(s.XML, "<retract")
	})

	// Down: the supergroup's messages meanwhile come on restart, in order.
	e.stop()
	mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "while down 1", 0)
	mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "while down 2", 0)
	e.start(t)
	if err := alice.Send(ctx, `<presence to="`+sgRoom+`/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
		t.Fatal(err)
	}
	// They come in the room, or, before alice is back in it, as chat
	// lines; the room's subject says she is back.
	want := map[string]bool{"while down 1": true, "while down 2": true, "subject": true}
	for len(want) > 0 {
		s := nextWhere(t, alice, fmt.Sprintf("alice back in the room, and the messages while down (%d to come)", len(want)), func(s xmpptest.Stanza) bool {
			return strings.HasPrefix(s.From, sgRoom) && (s.Subject != "" || strings.HasSuffix(s.Body, "while down 1") || strings.HasSuffix(s.Body, "while down 2"))
		})
		if s.Subject != "" {
			delete(want, "subject")
		} else {
			delete(want, s.Body[strings.Index(s.Body, "while down"):])
		}
	}

	// Too far behind: the latest messages, each once.
	mt.ChannelTooLong(sg)
	mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "after a long gap", 0)
	groupchat("the message after a too-long difference", "after a long gap")
	mt.Post(carol.ID, tguserfake.Peer{Channel: sg}, "marker", 0)
	seen := map[string]int{}
	for {
		m := nextWhere(t, alice, "the marker", func(s xmpptest.Stanza) bool {
			// (Not the room's history, replayed when alice joined again.)
			return s.Type == "groupchat" && s.Body != "" && !strings.Contains(s.XML, "urn:xmpp:delay")
		})
		seen[m.Body]++
		if m.Body == "marker" {
			break
		}
	}
	for body, n := range seen {
		if body != "marker" {
			t.Errorf("%q relayed again (%d times) after the too-long difference", body, n)
		}
	}
}

// TestTelegramUserRegistration: XEP-0077 on the gateway says whether
// alice is logged in and how to log in (the command: one registration
// form cannot ask for a code that comes after the phone number), and
// removing the registration logs her out at Telegram.
func TestTelegramUserRegistration(t *testing.T) {
	e := startEnv(t, envOptions{tgUser: true})
	mt := e.mt
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	ctx := testCtx(t)
	alice := e.login(t, "alice")
	iq := func(id, typ, payload string) xmpptest.Stanza {
		t.Helper()
		if err := alice.Send(ctx, `<iq type="`+typ+`" id="`+id+`" to="tg.example.test"><query xmlns="jabber:iq:register">`+payload+`</query></iq>`); err != nil {
			t.Fatal(err)
		}
		return nextWhere(t, alice, "the answer to "+id, func(s xmpptest.Stanza) bool { return s.ID == id })
	}
	s := iq("r1", "get", "")
	if s.Type != "result" || strings.Contains(s.XML, "<registered") || !strings.Contains(s.XML, `You are not logged in to Telegram. Run the command &#34;Log in to Telegram&#34; on tg.example.test`) {
		t.Errorf("the form before login: %s", s.XML)
	}
	s = iq("r2", "set", "<phone>+15550001111</phone>")
	if s.Type != "error" || !strings.Contains(s.XML, "<not-allowed") || !strings.Contains(s.XML, "Log in to Telegram") {
		t.Errorf("registering with a phone number: %s", s.XML)
	}
	tgLogin(t, e, alice, "+15550001111", "")
	s = iq("r3", "get", "")
	if s.Type != "result" || !strings.Contains(s.XML, "<registered") || !strings.Contains(s.XML, "You are logged in to Telegram (account "+strconv.FormatInt(me.ID, 10)+")") {
		t.Errorf("the form after login: %s", s.XML)
	}
	s = iq("r4", "set", "<remove/>")
	if s.Type != "result" {
		t.Errorf("removing the registration: %s", s.XML)
	}
	waitFor(t, ctx, "the session ended at Telegram", func() bool { return mt.Authorized(me.ID) == 0 })
	if s := iq("r5", "get", ""); strings.Contains(s.XML, "<registered") {
		t.Errorf("the form after removing: %s", s.XML)
	}
}
