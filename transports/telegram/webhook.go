package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"xmppgw/transports"
)

// Limits on one webhook request.
const (
	maxUpdate     = 1 << 20
	webhookBudget = 10 * time.Second
)

// Webhooks implements transports.WebhookReceiver: POST /update takes one
// update in webhook mode. A wrong or missing X-Telegram-Bot-Api-Secret-Token
// gets 403; an update that cannot be stored gets 503 so Telegram retries it.
func (t *Transport) Webhooks(sink transports.Sink) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/update", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "telegram: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if t.s.Mode != ModeWebhook {
			http.Error(w, "telegram: webhook mode is off", http.StatusNotFound)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(t.s.WebhookSecret)) != 1 {
			t.quiet.Warn("webhook without the right secret token refused", "remote", r.RemoteAddr)
			http.Error(w, "telegram: bad secret token", http.StatusForbidden)
			return
		}
		var u update
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUpdate))
		if err := dec.Decode(&u); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "telegram: update too large", http.StatusRequestEntityTooLarge)
				return
			}
			t.quiet.Warn("malformed update refused", "err", err)
			http.Error(w, "telegram: malformed update: "+err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), webhookBudget)
		defer cancel()
		if err := t.handle(ctx, sink, u); err != nil {
			t.log.Error("update not stored; Telegram will retry", "update_id", u.UpdateID, "err", err)
			http.Error(w, "telegram: try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return mux
}
