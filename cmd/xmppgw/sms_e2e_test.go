//go:build integration

package main

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// An alert from XMPP reaches Twilio, a signed reply comes back into the same
// chat, a retried webhook is delivered once, and delivery reports become a
// receipt or an error.
func TestSMSRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")

		// XMPP -> SMS, to a number typed without the country code.
		if err := alice.Send(ctx, `<message type="chat" id="a1" to="5551234567@sms.example.test"><body>disk full on db1</body><request xmlns="urn:xmpp:receipts"/></message>`); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		if m.To != "+15551234567" || m.From != aliceNum || m.Body != "disk full on db1" ||
			m.StatusCallback != e.public+"/hooks/sms/status#rc=5&rp=all" {
			t.Fatalf("Twilio got %+v", m)
		}

		// SMS -> XMPP: the reply, from the E.164 JID, to alice.
		inbound := e.public + "/hooks/sms/inbound"
		sid, status, err := e.twilio.SendInbound(ctx, inbound, "+15551234567", aliceNum, "on it")
		if err != nil || status != 200 {
			t.Fatalf("inbound webhook: %d, %v", status, err)
		}
		got := nextMessage(t, alice)
		if got.From != "+15551234567@sms.example.test" || got.Type != "chat" || got.Body != "on it" ||
			!strings.HasPrefix(got.To, "alice@example.test") {
			t.Fatalf("alice got %s", got.XML)
		}

		// Twilio retries the same webhook: 200 again, but alice gets it once.
		if status, err := e.twilio.PostForm(ctx, inbound, e.twilio.InboundForm(sid, "+15551234567", aliceNum, "on it")); err != nil || status != 200 {
			t.Fatalf("replayed webhook: %d, %v", status, err)
		}
		// A webhook without a valid signature: 403, nothing delivered.
		form := e.twilio.InboundForm("SMforged0000000000000000000000000", "+15551234567", aliceNum, "forged")
		resp, err := http.PostForm(inbound, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("unsigned webhook: %d, want 403", resp.StatusCode)
		}
		req, _ := http.NewRequest("POST", inbound, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("badly signed webhook: %d, want 403", resp.StatusCode)
		}

		// Delivered: alice gets the receipt for a1. It is the next message, so
		// neither the replay nor the forgery reached her.
		if st, err := e.twilio.SendStatus(ctx, m, "delivered", ""); err != nil || st/100 != 2 {
			t.Fatalf("status callback: %d, %v", st, err)
		}
		got = nextMessage(t, alice)
		if !strings.Contains(got.XML, `<received xmlns="urn:xmpp:receipts" id="a1">`) ||
			got.From != "+15551234567@sms.example.test" {
			t.Fatalf("want a receipt for a1, got %s", got.XML)
		}

		// Undelivered: alice gets an error for a2 with Twilio's code.
		if err := alice.Send(ctx, `<message type="chat" id="a2" to="+15551234567@sms.example.test"><body>second</body></message>`); err != nil {
			t.Fatal(err)
		}
		msgs, err = e.twilio.Wait(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := e.twilio.SendStatus(ctx, msgs[1], "undelivered", "30003"); err != nil || st/100 != 2 {
			t.Fatalf("status callback: %d, %v", st, err)
		}
		got = nextMessage(t, alice)
		if got.Type != "error" || got.ID != "a2" || got.ErrorCondition != "recipient-unavailable" || !strings.Contains(got.ErrorText, "30003") {
			t.Fatalf("want an error for a2, got %s", got.XML)
		}
	})
}

// Each wrong request gets the stanza error the README promises.
func TestSMSErrors(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice, bob, mallory := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "mallory")
		e.twilio.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
			if m.To == "+15550009999" {
				return &twiliofake.APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
			}
			return nil
		})
		tests := []struct {
			c                   *xmpptest.Client
			to, cond, errorType string
			text                string
		}{
			0: {mallory, "+15551234567@sms.example.test", "forbidden", "auth", "mallory@example.test may not use this gateway"},
			1: {alice, "12@sms.example.test", "jid-malformed", "modify", `"12"`},
			2: {bob, "+15551234567@sms.example.test", "registration-required", "auth", "bob@example.test has no"},
			3: {alice, "+15550009999@sms.example.test", "recipient-unavailable", "wait", "21610"},
		}
		for i, tc := range tests {
			id := "e" + string(rune('0'+i))
			if err := tc.c.Send(ctx, `<message type="chat" id="`+id+`" to="`+tc.to+`"><body>x</body></message>`); err != nil {
				t.Fatal(err)
			}
			got := nextMessage(t, tc.c)
			if got.Type != "error" || got.ID != id || got.ErrorType != tc.errorType ||
				(tc.cond != "" && got.ErrorCondition != tc.cond) || !strings.Contains(got.ErrorText, tc.text) {
				t.Errorf("%d: got %s", i, got.XML)
			}
		}
	})
}

// Disco and XEP-0100 through the XMPP server: a client finds the gateway and turns a
// typed number into a JID; subscribing to a number is approved.
func TestSMSDiscovery(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		exchange := func(raw string) xmpptest.Stanza {
			t.Helper()
			if err := alice.Send(ctx, raw); err != nil {
				t.Fatal(err)
			}
			for {
				s, err := alice.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if s.Name == "iq" {
					return s
				}
			}
		}
		got := exchange(`<iq type="get" id="d1" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
		var info struct {
			Identity struct {
				Category string `xml:"category,attr"`
				Type     string `xml:"type,attr"`
			} `xml:"query>identity"`
		}
		if err := xml.Unmarshal([]byte(got.XML), &info); err != nil || got.Type != "result" ||
			info.Identity.Category != "gateway" || info.Identity.Type != "sms" ||
			!strings.Contains(got.XML, `var="jabber:iq:gateway"`) {
			t.Fatalf("disco#info: %s", got.XML)
		}
		got = exchange(`<iq type="set" id="g1" to="sms.example.test"><query xmlns="jabber:iq:gateway"><prompt>(555) 123-4567</prompt></query></iq>`)
		if got.Type != "result" || !strings.Contains(got.XML, `>+15551234567@sms.example.test</jid>`) {
			t.Fatalf("jabber:iq:gateway: %s", got.XML)
		}
		got = exchange(`<iq type="get" id="p1" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`)
		if got.Type != "result" || got.ID != "p1" {
			t.Fatalf("ping: %s", got.XML)
		}
		got = exchange(`<iq type="get" id="v1" to="sms.example.test"><query xmlns="jabber:iq:version"/></iq>`)
		if got.Type != "result" || !strings.Contains(got.XML, ">xmppgw</name>") {
			t.Fatalf("version: %s", got.XML)
		}
		if err := alice.Send(ctx, `<presence type="subscribe" to="+15551234567@sms.example.test"/>`); err != nil {
			t.Fatal(err)
		}
		for {
			s, err := alice.Next(ctx)
			if err != nil {
				t.Fatal("no available presence from the contact:", err)
			}
			if s.Name == "presence" && s.From == "+15551234567@sms.example.test" && s.Type == "" {
				break
			}
		}
	})
}
