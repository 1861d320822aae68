package telegram

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
)

func TestWebhookRequests(t *testing.T) {
	tr, _ := newTest(t, ModeWebhook, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	h := tr.Webhooks(sink)
	update := `{"update_id":5,"message":{"message_id":9,"date":1700000000,"chat":{"id":111,"type":"private","first_name":"Alice"},"from":{"id":111,"is_bot":false,"first_name":"Alice"},"text":"via hook"}}`

	tests := []struct {
		name, method, secret, body string
		status                     int
	}{
		{"no secret", "POST", "", update, 403},
		{"wrong secret", "POST", "hook-secreT", update, 403},
		{"GET", "GET", "hook-secret-0123456789", "", 405},
		{"malformed", "POST", "hook-secret-0123456789", `{"update_id":`, 400},
		{"too large", "POST", "hook-secret-0123456789", `{"update_id":1,"x":"` + strings.Repeat("a", maxUpdate) + `"}`, 413},
		{"good", "POST", "hook-secret-0123456789", update, 200},
		{"replayed", "POST", "hook-secret-0123456789", update, 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/update", strings.NewReader(tt.body))
		if tt.secret != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, w.Code, tt.status, w.Body)
		}
	}
	// The sink dedupes replays (the gateway's does, by ID); both carry one ID.
	got := sink.got()
	if len(got) != 2 || got[0].ID != "111:9" || got[1].ID != "111:9" || got[0].Body != "via hook" {
		t.Errorf("delivered %+v", got)
	}

	sink.deliverErr = errTest
	r := httptest.NewRequest("POST", "/update", strings.NewReader(update))
	r.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hook-secret-0123456789")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("store down: status %d, want 503", w.Code)
	}
}

// In webhook mode, Run registers the webhook with the secret, and Telegram
// (the fake) delivers updates through it.
func TestWebhookMode(t *testing.T) {
	tr, fake := newTest(t, ModeWebhook, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	mux := http.NewServeMux()
	mux.Handle("/hooks/telegram/", http.StripPrefix("/hooks/telegram", tr.Webhooks(sink)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tr.publicURL = srv.URL + "/hooks/telegram"
	run(t, tr, sink)
	ctx := testCtx(t)
	if err := fake.WaitFor(ctx, func() bool { return fake.Calls("setWebhook") > 0 }); err != nil {
		t.Fatal(err)
	}
	fake.UserSends(botfake.Chat{ID: 111, Type: "private", FirstName: "Alice"}, alice, "pushed")
	if got := sink.waitInbound(t, 1); got[0].Body != "pushed" {
		t.Errorf("got %+v", got)
	}
	for _, a := range fake.WebhookAttempts() {
		if a.Status != 200 {
			t.Errorf("webhook attempt %+v", a)
		}
	}
}
