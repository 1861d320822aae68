//go:build integration

package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/xmpptest"
)

var (
	tgAlice = botfake.User{ID: 111, FirstName: "Alice", LastName: "Tg"}
	tgBob   = botfake.User{ID: 222, FirstName: "Bob"}
	tgDM    = botfake.Chat{ID: 111, Type: "private", FirstName: "Alice", LastName: "Tg"}
	tgGroup = botfake.Chat{ID: -1001234, Type: "supergroup", Title: "Ops team"}
	codeRE  = regexp.MustCompile(`/link ([A-Z0-9]{8})`)
)

// nextWhere returns c's next stanza that matches, skipping others.
func nextWhere(t *testing.T, c *xmpptest.Client, what string, match func(xmpptest.Stanza) bool) xmpptest.Stanza {
	t.Helper()
	ctx := testCtx(t)
	for {
		st, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("%s never came to %s: %v", what, c.JID, err)
		}
		if match(st) {
			return st
		}
	}
}

func from(j, name, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool { return s.Name == name && s.Type == typ && s.From == j }
}

// linkCode asks the gateway for a link code, as a user would: "link" to the
// gateway JID.
func linkCode(t *testing.T, c *xmpptest.Client) string {
	t.Helper()
	if err := c.Send(testCtx(t), `<message type="chat" to="telegram.example.test"><body>link</body></message>`); err != nil {
		t.Fatal(err)
	}
	m := nextWhere(t, c, "the link code", from("telegram.example.test", "message", "chat"))
	code := codeRE.FindStringSubmatch(m.Body)
	if code == nil || !strings.Contains(m.Body, "@xmppgw_test_bot") {
		t.Fatalf("no code in %q", m.Body)
	}
	return code[1]
}

// Linking by code: the contact asks to subscribe with its name, shows as
// available once approved, and messages flow both ways, edits included.
func TestTelegramLinkAndChat(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		contact := "111@telegram.example.test"

		code := linkCode(t, alice)
		e.tg.UserSends(tgDM, tgAlice, "/link "+code)
		sub := nextWhere(t, alice, "the subscription request", from(contact, "presence", "subscribe"))
		if !strings.Contains(sub.XML, `<nick xmlns="http://jabber.org/protocol/nick">Alice Tg</nick>`) {
			t.Errorf("subscription request without the nickname: %s", sub.XML)
		}
		note := nextWhere(t, alice, "the gateway's note", from("telegram.example.test", "message", "chat"))
		if note.Body != `Linked Telegram chat "Alice Tg" (111): it is your contact 111@telegram.example.test.` {
			t.Errorf("gateway said %q", note.Body)
		}
		replies, err := e.tg.WaitSent(ctx, 1)
		if err != nil || !strings.HasPrefix(replies[0].Text, "Linked: messages in this chat now reach alice@example.test") {
			t.Fatalf("bot answered %+v, %v", replies, err)
		}
		alice.Send(ctx, `<presence type="subscribed" to="`+contact+`"/>`)
		nextWhere(t, alice, "the contact's presence", from(contact, "presence", ""))

		// Telegram -> XMPP.
		m := e.tg.UserSends(tgDM, tgAlice, "is the db ok?")
		got := nextWhere(t, alice, "the message", from(contact, "message", "chat"))
		if got.Body != "is the db ok?" || got.ID != fmt.Sprintf("111:%d", m.MessageID) {
			t.Fatalf("alice got %s", got.XML)
		}
		// An edit arrives as a correction of that message.
		e.tg.UserEdits(tgDM, tgAlice, m.MessageID, "is the db ok now?")
		got = nextWhere(t, alice, "the correction", from(contact, "message", "chat"))
		if got.Body != "is the db ok now?" || !strings.Contains(got.XML, `<replace xmlns="urn:xmpp:message-correct:0" id="111:`+fmt.Sprint(m.MessageID)+`">`) {
			t.Fatalf("alice got %s", got.XML)
		}

		// XMPP -> Telegram, then a correction edits it; typing is shown.
		alice.Send(ctx, `<message type="chat" to="`+contact+`"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
		alice.Send(ctx, `<message type="chat" id="x1" to="`+contact+`"><body>yes, all green</body></message>`)
		sent, err := e.tg.WaitSent(ctx, 2)
		if err != nil || sent[1].Text != "yes, all green" || sent[1].Chat.ID != 111 {
			t.Fatalf("Telegram got %+v, %v", sent, err)
		}
		alice.Send(ctx, `<message type="chat" id="x2" to="`+contact+`"><body>yes, all green!</body><replace xmlns="urn:xmpp:message-correct:0" id="x1"/></message>`)
		if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.Edits()) == 1 }); err != nil {
			t.Fatal(err)
		}
		if ed := e.tg.Edits()[0]; ed.MessageID != sent[1].MessageID || ed.Text != "yes, all green!" {
			t.Errorf("edit %+v, want message %d edited", ed, sent[1].MessageID)
		}
		if a := e.tg.Actions(); len(a) != 1 || a[0].Action != "typing" {
			t.Errorf("chat actions %+v, want one typing", a)
		}
		// A long text is split at Telegram's 4096 characters.
		long := strings.Repeat("0123456789 ", 500)
		alice.Send(ctx, `<message type="chat" id="x3" to="`+contact+`"><body>`+long+`</body></message>`)
		sent, err = e.tg.WaitSent(ctx, 4)
		if err != nil || len(sent[2].Text)+len(sent[3].Text)+1 != len(long) {
			t.Fatalf("long text sent as %d messages, %v", len(sent)-2, err)
		}
		if n := len(e.tg.Sent()); n != 4 {
			t.Errorf("%d messages sent, want 4 (the correction edits, it does not resend)", n)
		}

		// /unlink: the contact leaves and further messages are refused.
		e.tg.UserSends(tgDM, tgAlice, "/unlink")
		nextWhere(t, alice, "the contact going offline", from(contact, "presence", "unavailable"))
		if note := nextWhere(t, alice, "the unlink note", from("telegram.example.test", "message", "chat")); note.Body != "Unlinked Telegram chat 111." {
			t.Errorf("gateway said %q", note.Body)
		}
		alice.Send(ctx, `<message type="chat" id="x4" to="`+contact+`"><body>still there?</body></message>`)
		errMsg := nextWhere(t, alice, "the error", from(contact, "message", "error"))
		if errMsg.ErrorCondition != "item-not-found" || errMsg.ID != "x4" {
			t.Errorf("after unlink: %s", errMsg.XML)
		}
	})
}

// A link from the config: the contact asks to subscribe once the gateway
// has connected, and a group's messages arrive prefixed with the sender's
// name. Media arrive as out-of-band URLs served by the gateway.
func TestTelegramStaticGroupAndMedia(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"-1001234": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		contact := "-1001234@telegram.example.test"

		nextWhere(t, alice, "the subscription request", from(contact, "presence", "subscribe"))
		e.tg.UserSends(tgGroup, tgBob, "deploy done\nall good")
		got := nextWhere(t, alice, "the group message", from(contact, "message", "chat"))
		if got.Body != "Bob: deploy done\nBob: all good" {
			t.Errorf("alice got %q", got.Body)
		}
		alice.Send(ctx, `<message type="chat" id="g1" to="`+contact+`"><body>thanks</body></message>`)
		if sent, err := e.tg.WaitSent(ctx, 1); err != nil || sent[0].Chat.ID != tgGroup.ID || sent[0].Text != "thanks" {
			t.Fatalf("Telegram got %+v, %v", sent, err)
		}

		e.tg.UserSendsPhoto(tgGroup, tgBob, "", []byte("\xff\xd8 a photo"))
		got = nextWhere(t, alice, "the photo", from(contact, "message", "chat"))
		url := got.Body
		if !strings.HasPrefix(url, e.public+"/media/telegram/") || strings.Contains(got.XML, tgToken) ||
			!strings.Contains(got.XML, `<x xmlns="jabber:x:oob"><url xmlns="jabber:x:oob">`+url+`</url></x>`) {
			t.Fatalf("photo message: %s", got.XML)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "\xff\xd8 a photo" || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("GET photo: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		e.tg.UserSendsDocument(tgGroup, tgBob, "the report", "report.pdf", "application/pdf", []byte("%PDF"))
		caption := nextWhere(t, alice, "the caption", from(contact, "message", "chat"))
		doc := nextWhere(t, alice, "the document", from(contact, "message", "chat"))
		if caption.Body != "Bob: the report" || !strings.HasSuffix(doc.Body, "/report.pdf") {
			t.Errorf("document arrived as %q then %q", caption.Body, doc.Body)
		}
		// The bot was removed from the group: recipient-unavailable, with
		// Telegram's description.
		e.tg.Kick(tgGroup.ID, "Forbidden: bot was kicked from the supergroup chat")
		alice.Send(ctx, `<message type="chat" id="g2" to="`+contact+`"><body>hello?</body></message>`)
		errMsg := nextWhere(t, alice, "the error", from(contact, "message", "error"))
		if errMsg.ErrorCondition != "recipient-unavailable" || !strings.Contains(errMsg.ErrorText, "bot was kicked from the supergroup chat") {
			t.Errorf("kicked: %s", errMsg.XML)
		}
		// The config link cannot be removed from Telegram.
		e.tg.Unkick(tgGroup.ID)
		e.tg.UserSends(tgGroup, tgBob, "/unlink")
		if err := e.tg.WaitFor(ctx, func() bool {
			s := e.tg.SentTo(tgGroup.ID)
			return len(s) > 1 && strings.HasPrefix(s[len(s)-1].Text, "Not unlinked: this chat's link is set in the gateway's config")
		}); err != nil {
			t.Errorf("no refusal of /unlink: %v", err)
		}
	})
}

// Who may write where, and what an unlinked chat gets.
func TestTelegramRefusals(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "bob@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		mallory := e.login(t, "mallory")

		tests := []struct {
			who       *xmpptest.Client
			to, cond  string
			errorType string
		}{
			{alice, "111@telegram.example.test", "item-not-found", "cancel"}, // bob's chat
			{alice, "333@telegram.example.test", "item-not-found", "cancel"}, // nobody's
			{alice, "chat@telegram.example.test", "jid-malformed", "modify"},
			{mallory, "111@telegram.example.test", "forbidden", "auth"},
		}
		for i, tt := range tests {
			id := fmt.Sprintf("r%d", i)
			tt.who.Send(ctx, `<message type="chat" id="`+id+`" to="`+tt.to+`"><body>hi</body></message>`)
			got := nextWhere(t, tt.who, "error "+id, func(s xmpptest.Stanza) bool { return s.Type == "error" && s.ID == id })
			if got.ErrorCondition != tt.cond || got.ErrorType != tt.errorType {
				t.Errorf("%s to %s: got %s/%s, want %s/%s", tt.who.JID, tt.to, got.ErrorType, got.ErrorCondition, tt.errorType, tt.cond)
			}
		}
		// An unlinked chat is told how to link, and its message reaches nobody.
		stranger := botfake.Chat{ID: 333, Type: "private", FirstName: "Eve"}
		e.tg.UserSends(stranger, botfake.User{ID: 333, FirstName: "Eve"}, "hello?")
		if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.SentTo(333)) == 1 }); err != nil {
			t.Fatal(err)
		}
		if text := e.tg.SentTo(333)[0].Text; !strings.Contains(text, "not linked") || !strings.Contains(text, "telegram.example.test") {
			t.Errorf("unlinked chat was told %q", text)
		}
		// Disco and registration on the gateway JID.
		alice.Send(ctx, `<iq type="get" id="d1" to="telegram.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
		disco := nextWhere(t, alice, "disco", func(s xmpptest.Stanza) bool { return s.ID == "d1" })
		if !strings.Contains(disco.XML, `category="gateway"`) || !strings.Contains(disco.XML, `type="telegram"`) ||
			!strings.Contains(disco.XML, `var="jabber:iq:register"`) {
			t.Errorf("disco: %s", disco.XML)
		}
		mallory.Send(ctx, `<iq type="get" id="reg-m" to="telegram.example.test"><query xmlns="jabber:iq:register"/></iq>`)
		if got := nextWhere(t, mallory, "register refusal", func(s xmpptest.Stanza) bool { return s.ID == "reg-m" }); got.ErrorCondition != "forbidden" {
			t.Errorf("mallory registering: %s", got.XML)
		}
		if len(e.tg.SentTo(111)) != 0 {
			t.Errorf("refused messages reached Telegram: %+v", e.tg.SentTo(111))
		}
	})
}

// XEP-0077: the form carries a code; the code links a chat; unregistering
// removes the link.
func TestTelegramRegistration(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		alice.Send(ctx, `<iq type="get" id="reg1" to="telegram.example.test"><query xmlns="jabber:iq:register"/></iq>`)
		form := nextWhere(t, alice, "the registration form", func(s xmpptest.Stanza) bool { return s.ID == "reg1" })
		code := codeRE.FindStringSubmatch(form.XML)
		if form.Type != "result" || code == nil || strings.Contains(form.XML, "<registered") {
			t.Fatalf("form: %s", form.XML)
		}
		e.tg.UserSends(tgDM, tgAlice, "/link "+code[1])
		nextWhere(t, alice, "the subscription request", from("111@telegram.example.test", "presence", "subscribe"))
		alice.Send(ctx, `<iq type="get" id="reg2" to="telegram.example.test"><query xmlns="jabber:iq:register"/></iq>`)
		if form = nextWhere(t, alice, "the form", func(s xmpptest.Stanza) bool { return s.ID == "reg2" }); !strings.Contains(form.XML, "<registered") {
			t.Errorf("registered user's form: %s", form.XML)
		}
		alice.Send(ctx, `<iq type="set" id="reg3" to="telegram.example.test"><query xmlns="jabber:iq:register"><remove/></query></iq>`)
		// The result is written by the read loop, the note (stored with the
		// unlink) by the writer: they may arrive in either order.
		var res, note *xmpptest.Stanza
		isNote := from("telegram.example.test", "message", "chat")
		for res == nil || note == nil {
			st := nextWhere(t, alice, "the unregister result and the unlink note", func(s xmpptest.Stanza) bool {
				return s.ID == "reg3" || isNote(s)
			})
			if st.ID == "reg3" {
				res = &st
			} else {
				note = &st
			}
		}
		if res.Type != "result" {
			t.Fatalf("unregister: %s", res.XML)
		}
		if note.Body != "Unlinked Telegram chat 111." {
			t.Errorf("gateway said %q", note.Body)
		}
		e.tg.UserSends(tgDM, tgAlice, "anyone?")
		if err := e.tg.WaitFor(ctx, func() bool {
			s := e.tg.SentTo(111)
			return len(s) > 1 && strings.Contains(s[len(s)-1].Text, "not linked")
		}); err != nil {
			t.Errorf("chat still linked after unregistering: %v", err)
		}
	})
}

// A restart resumes polling at the stored offset: an update sent while the
// gateway was down arrives once, and none before it is repeated.
func TestTelegramRestart(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		alice := e.login(t, "alice")
		contact := "111@telegram.example.test"
		e.tg.UserSends(tgDM, tgAlice, "before")
		if got := nextWhere(t, alice, "before", from(contact, "message", "chat")); got.Body != "before" {
			t.Fatalf("got %q", got.Body)
		}
		e.stop()
		e.tg.UserSends(tgDM, tgAlice, "while down")
		e.start(t)
		e.tg.UserSends(tgDM, tgAlice, "after")
		for _, want := range []string{"while down", "after"} {
			if got := nextWhere(t, alice, want, from(contact, "message", "chat")); got.Body != want {
				t.Fatalf("got %q, want %q (a repeat or a loss)", got.Body, want)
			}
		}
		// The next poll confirms the three updates (offset 4); it may come
		// just after the message reached alice.
		last := func() int { o := e.tg.Offsets(); return o[len(o)-1] }
		if err := e.tg.WaitFor(testCtx(t), func() bool { return last() >= 4 }); err != nil || last() != 4 {
			t.Errorf("last offset %d, want 4 (three updates consumed)", last())
		}
	})
}

// Webhook mode: the gateway registers its URL and secret; Telegram's posts
// arrive; a post without the secret gets 403. Flood control (429) delays a
// send, it does not lose it.
func TestTelegramWebhookMode(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, mode: "webhook", chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		if err := e.tg.WaitFor(ctx, func() bool { return e.tg.Calls("setWebhook") > 0 }); err != nil {
			t.Fatal(err)
		}
		e.tg.UserSends(tgDM, tgAlice, "pushed")
		if got := nextWhere(t, alice, "the pushed message", from("111@telegram.example.test", "message", "chat")); got.Body != "pushed" {
			t.Fatalf("got %q", got.Body)
		}
		resp, err := http.Post(e.public+"/hooks/telegram/update", "application/json",
			strings.NewReader(`{"update_id":99,"message":{"message_id":99,"date":1,"chat":{"id":111,"type":"private"},"text":"forged"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("post without the secret: %d, want 403", resp.StatusCode)
		}
		e.tg.Fail("sendMessage", 1, 429, "Too Many Requests: retry after 1", 1)
		alice.Send(ctx, `<message type="chat" id="w1" to="111@telegram.example.test"><body>after the flood</body></message>`)
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil || sent[0].Text != "after the flood" || e.tg.Count429() != 1 {
			t.Fatalf("sent %+v, 429s %d, %v", sent, e.tg.Count429(), err)
		}
	})
}

// The gateway JID shows whether Telegram can be reached.
func TestTelegramGatewayPresence(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		alice.Send(ctx, `<presence type="probe" to="telegram.example.test"/>`)
		nextWhere(t, alice, "the gateway's presence", from("telegram.example.test", "presence", ""))
		e.tg.Fail("getUpdates", 2, 502, "Bad Gateway", 0)
		e.tg.UserSends(tgDM, tgAlice, "ends the long poll in flight")
		down := nextWhere(t, alice, "unavailable", from("telegram.example.test", "presence", "unavailable"))
		if !strings.Contains(down.XML, "Bad Gateway") {
			t.Errorf("unavailable presence without the reason: %s", down.XML)
		}
		nextWhere(t, alice, "available again", from("telegram.example.test", "presence", ""))
	})
}
