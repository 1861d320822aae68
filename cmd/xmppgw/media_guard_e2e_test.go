//go:build integration

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/xmpptest"
)

// TestMediaGuard (issue 12, item 3): with the default media settings, an
// attachment on the gateway's own network is refused. A canary HTTP server
// on 127.0.0.1 (the gateway's host, where /metrics and internal services
// answer) must get no request when alice sends its URL to an SMS and a
// Telegram contact, by its address, by "localhost" or in IPv4-mapped form.
// Each such message fails at once with modify/not-acceptable and the
// generic text alone (no host, port or network error), and the next
// message to the same contact goes out promptly: the queue is not held
// for retry_for.
//
// Only 127.0.0.1 is ever contacted.
func TestMediaGuard(t *testing.T) {
	e := startEnv(t, envOptions{chats: map[string]string{"111": "alice@example.test"}})
	e.tg.AddChat(botfake.Chat{ID: 111, Type: "private", FirstName: "Dana"})
	var hits atomic.Int32
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, "\x89PNG\r\n\x1a\ninternal secret")
	}))
	t.Cleanup(canary.Close)
	port := canary.URL[strings.LastIndex(canary.URL, ":")+1:]
	if !strings.HasPrefix(canary.URL, "http://127.0.0.1:") {
		t.Fatalf("the canary is not on 127.0.0.1: %s", canary.URL)
	}
	ctx := testCtx(t)
	alice := e.login(t, "alice")

	const generic = "this attachment's address is not allowed"
	tests := []struct {
		contact string
		url     string
		// delivered waits for the message with this body at the provider.
		delivered func(body string) error
	}{
		{"+15557654321@sms.example.test", canary.URL + "/metrics", func(body string) error {
			return waitTwilio(e, body)
		}},
		{"+15557654321@sms.example.test", "http://localhost:" + port + "/upload/cat.png", func(body string) error {
			return waitTwilio(e, body)
		}},
		{"111@telegram.example.test", canary.URL + "/metrics", func(body string) error {
			return e.tg.WaitFor(ctx, func() bool { return sentText(e.tg.SentTo(111), body) })
		}},
		{"111@telegram.example.test", "http://[::ffff:127.0.0.1]:" + port + "/upload/cat.png", func(body string) error {
			return e.tg.WaitFor(ctx, func() bool { return sentText(e.tg.SentTo(111), body) })
		}},
	}
	for i, tt := range tests {
		oob := `<body>` + tt.url + `</body><x xmlns="jabber:x:oob"><url>` + tt.url + `</url></x>`
		id := fmt.Sprintf("guard%d", i)
		if err := alice.Send(ctx, `<message type="chat" id="`+id+`" to="`+tt.contact+`">`+oob+`</message>`); err != nil {
			t.Fatal(err)
		}
		after := fmt.Sprintf("after attachment %d", i)
		sent := time.Now()
		if err := alice.Send(ctx, `<message type="chat" id="`+id+`b" to="`+tt.contact+`"><body>`+after+`</body></message>`); err != nil {
			t.Fatal(err)
		}
		got := nextWhere(t, alice, "the refusal of "+id, func(s xmpptest.Stanza) bool {
			return s.Name == "message" && s.Type == "error" && s.ID == id
		})
		if got.From != tt.contact || got.ErrorType != "modify" || got.ErrorCondition != "not-acceptable" || got.ErrorText != generic ||
			strings.Contains(got.XML, port) || strings.Contains(got.XML, "refused") {
			t.Errorf("%02d %s: alice got %s", i, tt.url, got.XML)
		}
		if err := tt.delivered(after); err != nil {
			t.Fatalf("%02d: %q never reached the provider: %v", i, after, err)
		}
		if d := time.Since(sent); d > 10*time.Second {
			t.Errorf("%02d: the next message took %v: the queue was held", i, d)
		}
	}
	// Nothing with an attachment went out, and the canary heard nothing.
	for _, m := range e.twilio.Messages() {
		if len(m.MediaURLs) > 0 {
			t.Errorf("Twilio got media %q", m.MediaURLs)
		}
	}
	if m := e.tg.Media(); len(m) != 0 {
		t.Errorf("Telegram got files %+v", m)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the canary got %d requests, want 0", n)
	}
}

// waitTwilio waits until the Twilio fake has a message with body.
func waitTwilio(e *env, body string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for n := 1; ; n++ {
		msgs, err := e.twilio.Wait(ctx, n)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Body == body {
				return nil
			}
		}
	}
}

func sentText(msgs []botfake.Message, text string) bool {
	for _, m := range msgs {
		if m.Text == text {
			return true
		}
	}
	return false
}
