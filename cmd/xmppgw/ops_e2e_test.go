//go:build integration

package main

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// TestOperatorCommands drives registration (XEP-0077) and the ad-hoc
// commands (XEP-0050) from real clients through each XMPP server, then
// reads the metrics they moved. bob is an admin; alice has an SMS number.
func TestOperatorCommands(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		e.tg.AddChat(botfake.Chat{ID: 555, Type: "private", FirstName: "Carol"})
		e.twilio.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
			if m.To == "+15550009999" {
				return &twiliofake.APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
			}
			return nil
		})
		ctx := testCtx(t)
		alice, bob, mallory := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "mallory")
		ask := func(c *xmpptest.Client, id, iq string) xmpptest.Stanza {
			t.Helper()
			if err := c.Send(ctx, iq); err != nil {
				t.Fatal(err)
			}
			return nextWhere(t, c, id, func(s xmpptest.Stanza) bool { return s.Name == "iq" && s.ID == id })
		}
		execute := func(c *xmpptest.Client, id, to, node, fields string) xmpptest.Stanza {
			t.Helper()
			form := ""
			if fields != "" {
				form = `<x xmlns="jabber:x:data" type="submit">` + fields + `</x>`
			}
			return ask(c, id, `<iq type="set" id="`+id+`" to="`+to+`"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" action="execute">`+form+`</command></iq>`)
		}
		field := func(name, value string) string {
			return `<field var="` + name + `"><value>` + value + `</value></field>`
		}
		note := regexp.MustCompile(`<note[^>]*>([^<]*)</note>`)
		noteOf := func(s xmpptest.Stanza) string {
			if m := note.FindStringSubmatch(s.XML); m != nil {
				return html.UnescapeString(m[1])
			}
			return s.XML
		}

		// Registration shows alice's number.
		reg := ask(alice, "r1", `<iq type="get" id="r1" to="sms.example.test"><query xmlns="jabber:iq:register"/></iq>`)
		if !strings.Contains(reg.XML, "<phone") || !strings.Contains(reg.XML, "+15550001111</phone>") || !strings.Contains(reg.XML, "<registered") {
			t.Errorf("registration form: %s", reg.XML)
		}
		// The command lists differ for a user and an admin.
		items := ask(alice, "c1", `<iq type="get" id="c1" to="telegram.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`)
		if !strings.Contains(items.XML, `node="unlink"`) || strings.Contains(items.XML, `node="admin-link"`) {
			t.Errorf("alice's commands: %s", items.XML)
		}
		items = ask(bob, "c2", `<iq type="get" id="c2" to="telegram.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`)
		if !strings.Contains(items.XML, `node="admin-link"`) || !strings.Contains(items.XML, `node="stats"`) {
			t.Errorf("bob's commands: %s", items.XML)
		}
		// A form first, then its submission.
		form := execute(bob, "c3", "telegram.example.test", "admin-link", "")
		if !strings.Contains(form.XML, `status="executing"`) || !strings.Contains(form.XML, `var="user"`) {
			t.Errorf("admin-link form: %s", form.XML)
		}
		done := execute(bob, "c4", "telegram.example.test", "admin-link", field("user", "alice@example.test")+field("chat", "555"))
		if got := noteOf(done); got != "Linked 555@telegram.example.test to alice@example.test." {
			t.Errorf("admin-link: %s", done.XML)
		}
		if m := nextMessage(t, alice); m.From != "telegram.example.test" || !strings.Contains(m.Body, "An administrator linked Telegram chat 555") {
			t.Errorf("alice told: %s", m.XML)
		}
		if got := noteOf(execute(alice, "c5", "telegram.example.test", "links", "")); !strings.Contains(got, "555@telegram.example.test") {
			t.Errorf("alice's links: %s", got)
		}
		// An admin's test message goes out through the queue.
		done = execute(bob, "c6", "telegram.example.test", "send-test", field("to", "555")+field("text", "test from ops"))
		if got := noteOf(done); !strings.HasPrefix(got, "Queued a test message to 555") {
			t.Errorf("send-test: %s", done.XML)
		}
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil || sent[0].Chat.ID != 555 || sent[0].Text != "test from ops" {
			t.Fatalf("Telegram got %+v, %v", sent, err)
		}
		// Refusals are counted by condition; mallory is not an admin.
		if got := execute(mallory, "c7", "sms.example.test", "stats", ""); got.ErrorCondition != "forbidden" {
			t.Errorf("mallory's stats: %s", got.XML)
		}
		// A message out and a provider failure, for the metrics.
		alice.Send(ctx, `<message type="chat" id="m1" to="+15557654321@sms.example.test"><body>db down</body></message>`)
		alice.Send(ctx, `<message type="chat" id="m2" to="+15550009999@sms.example.test"><body>db down</body></message>`)
		if m := nextWhere(t, alice, "the failure", func(s xmpptest.Stanza) bool { return s.ID == "m2" }); m.ErrorCondition == "" {
			t.Errorf("m2: %s", m.XML)
		}
		if _, err := e.twilio.Wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
		// Twilio has the message and alice the failure; the gateway
		// deletes their queue rows just after.
		waitFor(t, ctx, "the SMS queues to empty", func() bool {
			_, body := get(e.public + "/metrics")
			return strings.Contains(body, "\nxmppgw_queue_depth{queue=\"out\",transport=\"sms\"} 0\n") &&
				strings.Contains(body, "\nxmppgw_queue_depth{queue=\"in\",transport=\"sms\"} 0\n")
		})
		stats := noteOf(execute(bob, "c8", "sms.example.test", "stats", ""))
		if !strings.Contains(stats, "component connected") || !strings.Contains(stats, "Queued: 0 to SMS, 0 to XMPP.") || !strings.Contains(stats, "1 sent") {
			t.Errorf("stats: %s", stats)
		}

		wants := []string{
			`xmppgw_active 1`,
			`xmppgw_component_connected{transport="sms"} 1`,
			`xmppgw_component_connected{transport="telegram"} 1`,
			`xmppgw_component_reconnects_total{transport="sms"} 0`,
			`xmppgw_messages_total{direction="out",transport="sms"} 1`,
			`xmppgw_messages_total{direction="out",transport="telegram"} 1`,
			`xmppgw_provider_request_seconds_count{outcome="ok",transport="sms"} 1`,
			`xmppgw_provider_request_seconds_count{outcome="ok",transport="telegram"} 1`,
			`xmppgw_errors_total{kind="unreachable",transport="sms"} 1`,
			`xmppgw_stanza_errors_total{condition="forbidden",transport="sms"} 1`,
			`xmppgw_queue_depth{queue="out",transport="sms"} 0`,
			`xmppgw_queue_depth{queue="in",transport="telegram"} 0`,
		}
		// The queue depths are read from the store at most once a second.
		var code int
		var body string
		all := func() bool {
			for _, want := range wants {
				if !strings.Contains(body, "\n"+want+"\n") {
					return false
				}
			}
			return true
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if code, body = get(e.public + "/metrics"); all() || time.Now().After(deadline) {
				break
			}
		}
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		for _, want := range wants {
			if !strings.Contains(body, "\n"+want+"\n") {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if t.Failed() || testing.Verbose() {
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "xmppgw_") && !strings.Contains(l, "_bucket{") {
					t.Log(l)
				}
			}
		}
	})
}
