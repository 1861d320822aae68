package botfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// hookServer answers the given statuses in turn (then 200) and records
// what it received.
type hookServer struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	secrets  []string
	ctypes   []string
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(body))
	h.secrets = append(h.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	h.ctypes = append(h.ctypes, r.Header.Get("Content-Type"))
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	w.WriteHeader(status)
}

func TestWebhookDelivery(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantStatuses []int
	}{
		{name: "retried after 500", statuses: []int{500}, wantStatuses: []int{500, 200}},
		{name: "delivered at once", statuses: nil, wantStatuses: []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, base := start(t)
			f.WebhookBackoff = 10 * time.Millisecond
			hook := &hookServer{statuses: append([]int(nil), tt.statuses...)}
			srv := httptest.NewServer(hook)
			t.Cleanup(srv.Close)

			status, body := form(t, base, "setWebhook",
				"url="+url.QueryEscape(srv.URL+"/tg")+"&secret_token=s3cr3t-token")
			if status != 200 || body != `{"ok":true,"result":true,"description":"Webhook was set"}` {
				t.Fatalf("setWebhook: %d %s", status, body)
			}
			in := f.UserSends(group, alice, "via webhook")

			ctx := testContext(t)
			if err := f.WaitFor(ctx, func() bool { return f.Pending() == 0 && len(f.WebhookAttempts()) == len(tt.wantStatuses) }); err != nil {
				t.Fatalf("%v; attempts %+v", err, f.WebhookAttempts())
			}
			attempts := f.WebhookAttempts()
			for i, a := range attempts {
				if a.UpdateID != 1 || a.Status != tt.wantStatuses[i] || a.Err != "" {
					t.Errorf("attempt %d: got %+v, want status %d", i, a, tt.wantStatuses[i])
				}
			}

			hook.mu.Lock()
			defer hook.mu.Unlock()
			if len(hook.bodies) != len(tt.wantStatuses) {
				t.Fatalf("hook saw %d requests, want %d", len(hook.bodies), len(tt.wantStatuses))
			}
			var u tgbotapi.Update
			if err := json.Unmarshal([]byte(hook.bodies[len(hook.bodies)-1]), &u); err != nil {
				t.Fatal(err)
			}
			if u.UpdateID != 1 || u.Message == nil || u.Message.Text != "via webhook" ||
				u.Message.MessageID != in.MessageID || u.Message.Chat.ID != group.ID || u.Message.Chat.Title != "Friends" {
				t.Errorf("delivered update: %s", hook.bodies[0])
			}
			for i := range hook.secrets {
				if hook.secrets[i] != "s3cr3t-token" || hook.ctypes[i] != "application/json" {
					t.Errorf("request %d: secret %q, Content-Type %q", i, hook.secrets[i], hook.ctypes[i])
				}
			}

			// getUpdates is refused while the webhook is set, allowed after deleteWebhook.
			if status, _ := form(t, base, "getUpdates", ""); status != http.StatusConflict {
				t.Errorf("getUpdates with webhook: status %d", status)
			}
			if status, body := form(t, base, "deleteWebhook", ""); status != 200 ||
				body != `{"ok":true,"result":true,"description":"Webhook was deleted"}` {
				t.Errorf("deleteWebhook: %d %s", status, body)
			}
			if status, body := form(t, base, "getUpdates", ""); status != 200 || body != `{"ok":true,"result":[]}` {
				t.Errorf("getUpdates after deleteWebhook: %d %s", status, body)
			}
		})
	}
}

func TestWebhookGivesUpAndReportsErrors(t *testing.T) {
	f, base := start(t)
	f.WebhookBackoff = time.Millisecond
	f.WebhookMaxAttempts = 3
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	if status, body := form(t, base, "setWebhook", "url="+url.QueryEscape(srv.URL)); status != 200 {
		t.Fatalf("setWebhook: %d %s", status, body)
	}
	f.UserSends(dm, alice, "one")
	f.UserSends(dm, alice, "two")
	if err := f.WaitFor(testContext(t), func() bool { return len(f.WebhookDropped()) == 2 }); err != nil {
		t.Fatalf("%v; attempts %+v", err, f.WebhookAttempts())
	}
	if got := f.WebhookDropped(); got[0] != 1 || got[1] != 2 {
		t.Errorf("dropped: %v", got)
	}
	if n := len(f.WebhookAttempts()); n != 6 {
		t.Errorf("attempts: got %d, want 6", n)
	}
	_, body := form(t, base, "getWebhookInfo", "")
	var info struct {
		Result tgbotapi.WebhookInfo `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	if info.Result.URL != srv.URL || info.Result.PendingUpdateCount != 0 || info.Result.LastErrorDate == 0 ||
		info.Result.LastErrorMessage != "Wrong response from the webhook: 502 Bad Gateway" ||
		!strings.Contains(body, `"has_custom_certificate":false`) {
		t.Errorf("getWebhookInfo: %s", body)
	}
}

func TestWebhookInfoCountsPending(t *testing.T) {
	f, base := start(t)
	f.UserSends(dm, alice, "one")
	f.UserSends(dm, alice, "two")
	bot := client(t, base)
	info, err := bot.GetWebhookInfo()
	if err != nil || info.URL != "" || info.PendingUpdateCount != 2 || info.HasCustomCertificate {
		t.Errorf("GetWebhookInfo: %v %+v", err, info)
	}
	if _, err := bot.Request(tgbotapi.DeleteWebhookConfig{DropPendingUpdates: true}); err != nil {
		t.Fatal(err)
	}
	if f.Pending() != 0 {
		t.Errorf("Pending after drop_pending_updates: %d", f.Pending())
	}
}
