//go:build integration

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"xmppgw/internal/clienttest"
	"xmppgw/internal/fake/botfake"
)

// profanity is Profanity 0.13 in a tmux pane, logged in as user.
type profanity struct {
	*clienttest.Pane
	user string
}

// profrc is Profanity's config: no splash, so the console keeps room.
const profrc = "[ui]\nsplash=false\n"

// startProfanity starts Profanity and logs user in to Prosody's c2s port,
// without TLS.
func startProfanity(t *testing.T, user, c2sAddr string) *profanity {
	t.Helper()
	p := &profanity{Pane: clienttest.StartPane(t, map[string]string{".config/profanity/profrc": profrc}, "profanity"), user: user}
	host, port, _ := strings.Cut(c2sAddr, ":")
	p.WaitFor("Type /help for help")
	p.Type(fmt.Sprintf("/connect %s@example.test server %s port %s tls disable", user, host, port))
	p.WaitFor("Enter password:")
	p.Type("pw")
	p.WaitForRe(regexp.QuoteMeta(user+"@example.test/") + `\S+ logged in successfully`)
	return p
}

// save writes p's pane to out/NAME-USER.txt and, if the test failed,
// Profanity's own log beside it.
func (p *profanity) save(t *testing.T, out, name string) {
	if err := p.Save(filepath.Join(out, name+"-"+p.user+".txt")); err != nil {
		t.Logf("save the pane: %v", err)
	}
	if t.Failed() {
		if b, err := os.ReadFile(filepath.Join(p.Home, ".local/share/profanity/logs/profanity.log")); err == nil {
			os.WriteFile(filepath.Join(out, "profanity-"+p.user+".log"), b, 0o644)
		}
	}
}

// The end-user console client: Profanity 0.13 in tmux, against Prosody,
// the gateway and the provider fakes. The scenarios run in order, as a
// user would, typing commands and reading the pane. A failed step stops
// the test; each step's last pane is kept in the output directory.
func TestProfanity(t *testing.T) {
	out := clientOut(t)
	e := startClientEnv(t, out, map[string]string{"4242": "alice@example.test"}, tgDana)
	ctx := testCtx(t)
	alice := startProfanity(t, "alice", e.prosody.C2SAddr)
	bob := startProfanity(t, "bob", e.prosody.C2SAddr)
	step := func(name string, f func()) {
		t.Helper()
		t.Logf("step %s", name)
		defer func() {
			alice.save(t, out, name)
			bob.save(t, out, name)
		}()
		f()
	}
	const sms = "+15557654321@sms.example.test"
	q := regexp.QuoteMeta

	step("1-sms-out", func() {
		// /msg is Profanity's way to open a new chat.
		alice.Type("/msg " + sms + " disk full on db1")
		alice.WaitFor("me: disk full on db1")
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[0]; m.From != aliceNum || m.To != "+15557654321" || m.Body != "disk full on db1" {
			t.Fatalf("Twilio got From %s To %s Body %q", m.From, m.To, m.Body)
		}
	})

	step("2-sms-in", func() {
		if _, status, err := e.twilio.SendInbound(ctx, e.public+"/hooks/sms/inbound", "+15557654321", aliceNum, "on it, rebooting"); err != nil || status != http.StatusOK {
			t.Fatalf("inbound webhook: %d %v", status, err)
		}
		// In the same chat window: its title bar is the first line.
		alice.WaitForRe(`^ ` + q(sms) + ` \[(?s:.*)\n\S+ - ` + q(sms+": on it, rebooting"))
	})

	dana := "4242@telegram.example.test"
	step("3-telegram-contact", func() {
		// The linked chat asks to be a contact. Profanity 0.13 shows the
		// request by JID: it ignores the request's nick (XEP-0172).
		alice.Type("/win 1")
		alice.WaitFor("Received authorization request from " + dana)
		alice.Type("/sub allow " + dana)
		alice.WaitFor("Accepted subscription for " + dana)
		// "/sub allow" only answers; the user subscribes back.
		alice.Type("/sub request " + dana)
		alice.WaitFor("Subscription received from " + dana)
		alice.Type("/roster")
		alice.WaitForRe(`(?m)^\S+ -   ` + q(dana) + ` - both\b`)

		e.tg.UserSends(tgDana, tgDanaUser, "the truth is out there")
		alice.Type("/msg " + dana)
		alice.WaitForRe(`^ ` + q(dana) + ` \[(?s:.*)\n\S+ - ` + q(dana+": the truth is out there"))
		alice.Type("trust no one") // in the open chat window
		alice.WaitFor("me: trust no one")
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := sent[len(sent)-1]; m.Chat.ID != tgDana.ID || m.Text != "trust no one" {
			t.Fatalf("Telegram got %d %q", m.Chat.ID, m.Text)
		}
	})

	step("4-errors", func() {
		// Profanity marks errors with "!" and names their sender.
		bad := "+1@sms.example.test"
		alice.Type("/msg " + bad + " anyone there?")
		alice.WaitForRe(`\S+ ! Error from ` + q(bad) + `: .*"\+1" is not a valid phone number`)
		bob.Type("/msg " + sms + " hello from bob")
		bob.WaitForRe(`\S+ ! Error from ` + q(sms) + `: .*bob@example\.test has no SMS account on transport .sms.: add it to that transport.s numbers`)
		if n := len(e.twilio.Messages()); n != 1 {
			t.Fatalf("Twilio got %d messages, want the first one only", n)
		}
	})

	step("5-disco-and-commands", func() {
		alice.Type("/win 1")
		alice.Type("/disco info sms.example.test")
		c := alice.WaitForRe(`Service discovery info for sms\.example\.test.*\n.*Identities.*\n.* SMS gateway sms gateway(?s:.*)`)[0]
		for _, f := range []string{"jabber:iq:gateway", "http://jabber.org/protocol/commands", "jabber:iq:register"} {
			if !strings.Contains(c, " "+f) {
				t.Fatalf("disco#info lists no %s:\n%s", f, c)
			}
		}

		// Profanity lists the commands' nodes, sorted.
		alice.Type("/cmd list telegram.example.test")
		alice.WaitForRe(`! Ad hoc commands:.*\n.*!   link\b.*\n.*!   links\b.*\n.*!   unlink\b`)
		alice.Type("/cmd exec links sms.example.test")
		alice.WaitFor("Your SMS number is " + aliceNum)
		alice.Type("/cmd exec links telegram.example.test")
		alice.WaitFor(dana + " Dana Scully (set in the config)")

		// A link made with a code, then undone through the command's
		// form. Command results go to the window of the gateway's JID,
		// when there is one: open it.
		alice.Type("/msg telegram.example.test")
		alice.Type("/cmd exec link telegram.example.test")
		code := alice.WaitForRe(`send /link (\S+) to @`)[1]
		fox := botfake.Chat{ID: 777, Type: "private", FirstName: "Fox", LastName: "Mulder"}
		e.tg.UserSends(fox, botfake.User{ID: 777, FirstName: "Fox", LastName: "Mulder"}, "/link "+code)
		alice.WaitFor(`Linked Telegram chat "Fox Mulder" (777)`)
		alice.Type("/cmd exec unlink telegram.example.test")
		alice.WaitFor("Form title: Unlink Telegram chats")
		// Profanity 0.13 lists a list-multi's options only once it has
		// a value: the user picks the chat by its value (Tab completes it).
		alice.WaitFor("[field1] Chats to unlink (required):")
		alice.Type("/field1 add 777")
		alice.WaitFor("[777] 777@telegram.example.test Fox Mulder")
		alice.Type("/form submit")
		alice.Type("/msg telegram.example.test")
		alice.WaitForRe(`unlink completed.*\n.*Unlinked 777\.`)
	})
}
