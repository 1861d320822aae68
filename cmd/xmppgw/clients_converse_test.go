//go:build integration

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"xmppgw/internal/clienttest"
	"xmppgw/internal/fake/botfake"
)

var (
	tgDana     = botfake.Chat{ID: 4242, Type: "private", FirstName: "Dana", LastName: "Scully"}
	tgDanaUser = botfake.User{ID: 4242, FirstName: "Dana", LastName: "Scully"}
)

// converse is Converse.js in a browser, logged in as a user, with the
// test's output directory for its screenshots.
type converse struct {
	*clienttest.Browser
	t   *testing.T
	out string
}

// step runs one scenario as a subtest and saves a screenshot of its final
// state as out/NAME.png, whether it passed or not. A failed step fails the
// test at once: the next ones build on it.
func (c *converse) step(name string, f func(t *testing.T)) {
	c.t.Helper()
	ok := c.t.Run(name, func(t *testing.T) {
		defer func() {
			if err := c.Screenshot(filepath.Join(c.out, name+".png")); err != nil {
				t.Logf("screenshot: %v", err)
			}
		}()
		f(t)
	})
	if !ok {
		c.t.FailNow()
	}
}

// openChat opens the chat with jid through Converse's "Start a new chat".
func (c *converse) openChat(jid string) {
	c.t.Helper()
	c.Click("#controlbox .dropdown--contacts .dropdown-toggle", "")
	c.Click(".dropdown-menu.show a.new-chat", "")
	c.Fill(".modal.show input[name=jid]", jid)
	c.Click(".modal.show [type=submit]", "")
	c.WaitFor(fmt.Sprintf(`converse-chat[jid=%q] textarea.chat-textarea`, jid), "")
}

// send types text in the open chat with jid and presses Enter.
func (c *converse) send(jid, text string) {
	c.t.Helper()
	area := fmt.Sprintf(`[jid=%q] textarea.chat-textarea`, jid)
	c.Fill(area, text)
	c.Press(area, "Enter")
}

// The end-user web client: Converse.js 14 in Chromium, against Prosody over
// WebSocket, the gateway and the provider fakes. The scenarios run in
// order in one browser session, as a user would.
func TestConverse(t *testing.T) {
	out := clientOut(t)
	e := startClientEnv(t, out, map[string]string{"4242": "alice@example.test", "-1001234": "alice@example.test"}, tgDana, tgGroup)
	page := clienttest.ServeConverse(t, e.prosody.WebSocketURL)
	c := &converse{Browser: clienttest.StartBrowser(t, out), t: t, out: out}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(c.ConsoleLog); err == nil {
				t.Logf("browser console (%s):\n%s", c.ConsoleLog, tail(string(b), 4000))
			}
		}
	})
	ctx := testCtx(t)
	const sms = "+15557654321@sms.example.test"

	c.step("0-login", func(t *testing.T) {
		c.Goto(page)
		c.Fill("input[name=jid]", "alice@example.test")
		c.Fill("input[name=password]", "pw")
		c.Click("[type=submit]", "")
		c.WaitFor("#controlbox a.open-chat", "alice@example.test")
	})

	c.step("1-sms-out", func(t *testing.T) {
		c.openChat(sms)
		c.send(sms, "disk full on db1")
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[0]; m.From != aliceNum || m.To != "+15557654321" || m.Body != "disk full on db1" {
			t.Fatalf("Twilio got From %s To %s Body %q", m.From, m.To, m.Body)
		}
	})

	c.step("2-sms-in", func(t *testing.T) {
		if _, status, err := e.twilio.SendInbound(ctx, e.public+"/hooks/sms/inbound", "+15557654321", aliceNum, "on it, rebooting"); err != nil || status != http.StatusOK {
			t.Fatalf("inbound webhook: %d %v", status, err)
		}
		c.WaitFor(fmt.Sprintf(`converse-chat[jid=%q] .chat-msg__text`, sms), "on it, rebooting")
	})

	dana := "4242@telegram.example.test"
	c.step("3-telegram-contact", func(t *testing.T) {
		// The linked chat asks to be a contact, with its name; alice
		// accepts in Converse's own dialog. Converse answers "subscribed"
		// but never subscribes itself, so the contact stays at "from"
		// (pending-xmpp-contact): listed by name, no longer a request.
		c.Click("#controlbox a.open-chat", "Dana Scully")
		c.Click("button", "Approve")
		c.Click(".modal.show [type=submit]", "")
		c.WaitFor("#controlbox li:not(.requesting-xmpp-contact) a.open-chat", "Dana Scully")
		e.tg.UserSends(tgDana, tgDanaUser, "the truth is out there")
		c.WaitFor(fmt.Sprintf(`converse-chat[jid=%q] .chat-msg__text`, dana), "the truth is out there")
		c.send(dana, "trust no one")
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := sent[len(sent)-1]; m.Chat.ID != tgDana.ID || m.Text != "trust no one" {
			t.Fatalf("Telegram got %d %q", m.Chat.ID, m.Text)
		}
	})

	c.step("4-errors", func(t *testing.T) {
		bad := "+1@sms.example.test"
		c.openChat(bad)
		c.send(bad, "anyone there?")
		c.WaitFor(fmt.Sprintf(`converse-chat[jid=%q] .chat-msg__error`, bad), `"+1" is not a valid phone number`)
	})

	c.step("5-disco-and-commands", func(t *testing.T) {
		c.Click("#controlbox a.show-client-info", "")
		c.Click(".modal.show a.nav-link", "Services")
		c.Fill(".modal.show input[name=entity_jid]", "sms.example.test")
		c.Click(".modal.show button", "Inspect")
		c.WaitFor(".modal.show .identities li", "Category: gateway")
		c.Click(".modal.show a.nav-link", "Commands")
		c.Fill(".modal.show input[name=jid]", "telegram.example.test")
		c.Click(".modal.show [type=submit]", "")
		c.Click(".modal.show a.open-room", "My links")
		c.WaitFor(".modal.show .alert", "-1001234@telegram.example.test")
		c.Click(".modal.show button", "Close")
		c.WaitGone(".modal.show")
	})

	group := "-1001234@telegram.example.test"
	c.step("6-room", func(t *testing.T) {
		// Joined before the group writes: a group's message to a user not
		// in its room comes as a one-to-one chat, and Converse then keeps
		// that JID a chat and does not join it (see README, Interop).
		c.Click("#controlbox converse-rooms-list .dropdown-toggle", "")
		c.Click(".dropdown-menu.show a.show-add-muc-modal", "")
		c.Fill(".modal.show input[name=chatroom]", group)
		c.Fill(".modal.show input[name=nickname]", "alice")
		c.Click(".modal.show input[name=join]", "")
		room := fmt.Sprintf(`converse-muc[jid=%q]`, group)
		c.WaitFor(room+" .chat-head__desc", tgGroup.Title) // the subject
		c.WaitFor(room+" .occupant-list", "alice")
		e.tg.UserSends(tgGroup, tgBob, "who broke prod?")
		c.WaitFor(room+" .occupant-list", "Bob")
		c.WaitFor(room+" .chat-msg__text", "who broke prod?")
		c.send(group, "not me")
		if err := e.tg.WaitFor(ctx, func() bool { return hasSent(e.tg, tgGroup.ID, "not me") }); err != nil {
			t.Fatalf("Telegram did not get the room message: %v", err)
		}
	})

	c.step("7-receipts-and-corrections", func(t *testing.T) {
		c.Click("#controlbox a.open-chat", "Dana Scully")
		c.send(dana, "meet at 10")
		chat := fmt.Sprintf(`converse-chat[jid=%q]`, dana)
		// The receipt's check mark, on this message.
		c.WaitFor(chat+` .chat-msg:has(.chat-msg__text:has-text("meet at 10")) .chat-msg__receipt`, "")
		area := chat + " textarea.chat-textarea"
		c.Press(area, "ArrowUp")
		c.Fill(area, "meet at 11")
		c.Press(area, "Enter")
		if err := e.tg.WaitFor(ctx, func() bool {
			for _, ed := range e.tg.Edits() {
				if ed.ChatID == tgDana.ID && ed.Text == "meet at 11" {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("Telegram got no edit: %v (edits %+v)", err, e.tg.Edits())
		}
		c.WaitFor(chat+" .chat-msg__text", "meet at 11")
	})
}

// hasSent reports whether the Telegram fake got text in chat.
func hasSent(f *botfake.Fake, chat int64, text string) bool {
	for _, m := range f.SentTo(chat) {
		if m.Text == text {
			return true
		}
	}
	return false
}
