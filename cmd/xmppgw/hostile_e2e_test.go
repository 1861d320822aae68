//go:build integration

package main

import (
	"net/http"
	"strings"
	"testing"
)

// Well-formed stanzas with values that do not parse, from a user outside
// access.allow and from an allowed one, through a real server: each is
// refused with bad-request, neither component's stream ends, and the SMS
// sent right after goes out.
func TestHostileStanzasKeepStream(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		mallory := e.login(t, "mallory")
		alice := e.login(t, "alice")
		poison := []string{
			`<presence id="h1" to="-100777@telegram.example.test/x"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="x"/></x></presence>`,
			`<message type="chat" id="h2" to="+15557654321@sms.example.test"><body>hi</body><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="a"/></fallback></message>`,
			`<message type="chat" id="h3" to="123456@telegram.example.test"><body>hi</body><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="99999999999999999999999"/></fallback></message>`,
		}
		for _, c := range []struct {
			name string
			send func(string) error
		}{
			{"mallory", func(s string) error { return mallory.Send(ctx, s) }},
			{"alice", func(s string) error { return alice.Send(ctx, s) }},
		} {
			for _, p := range poison {
				if err := c.send(p); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, c := range []struct {
			name   string
			next   func() (string, string, string)
			wanted int
		}{
			{"mallory", func() (string, string, string) {
				s, err := mallory.Next(ctx)
				if err != nil {
					t.Fatalf("mallory: %v", err)
				}
				return s.ID, s.ErrorCondition, s.XML
			}, len(poison)},
			{"alice", func() (string, string, string) {
				s, err := alice.Next(ctx)
				if err != nil {
					t.Fatalf("alice: %v", err)
				}
				return s.ID, s.ErrorCondition, s.XML
			}, len(poison)},
		} {
			got := map[string]bool{}
			for len(got) < c.wanted {
				id, cond, raw := c.next()
				if !strings.HasPrefix(id, "h") {
					continue // presence and the like
				}
				if cond != "bad-request" {
					t.Fatalf("%s: %s: want bad-request, got %s", c.name, id, raw)
				}
				got[id] = true
			}
		}

		// Both streams are the ones from the start: a ping through each is
		// answered, and no session was restarted.
		for _, domain := range []string{"sms.example.test", "telegram.example.test"} {
			if err := alice.Send(ctx, `<iq type="get" id="ping-`+domain+`" to="`+domain+`"><ping xmlns="urn:xmpp:ping"/></iq>`); err != nil {
				t.Fatal(err)
			}
			for {
				s, err := alice.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if s.ID != "ping-"+domain {
					continue
				}
				if s.Type != "result" {
					t.Fatalf("ping to %s: %s", domain, s.XML)
				}
				break
			}
		}
		if err := alice.Send(ctx, `<message type="chat" id="after" to="+15557654321@sms.example.test"><body>still here</body></message>`); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if msgs[0].Body != "still here" {
			t.Fatalf("Twilio got %+v", msgs[0])
		}
		code, metrics := get(e.public + "/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		for _, want := range []string{
			`xmppgw_component_reconnects_total{transport="sms"} 0`,
			`xmppgw_component_reconnects_total{transport="telegram"} 0`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(metrics, "xmppgw_component_restarts_total{") {
			t.Errorf("a session was restarted:\n%s", grepLines(metrics, "xmppgw_component_restarts_total"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
