package botfake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// webhookState is the webhook set with setWebhook.
type webhookState struct {
	url, secret string
	cancel      context.CancelFunc // stops the current deliverer
	done        chan struct{}      // closed when the current deliverer has stopped
	lastErrDate int64
	lastErrMsg  string
	maxConns    int
}

// WebhookAttempts returns every webhook POST, oldest first.
func (f *Fake) WebhookAttempts() []WebhookAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]WebhookAttempt(nil), f.attempts...)
}

// WebhookDropped returns the update_ids given up on after
// WebhookMaxAttempts failed deliveries.
func (f *Fake) WebhookDropped() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.dropped...)
}

func (f *Fake) setWebhook(_ *http.Request, p params) (any, *apiError) {
	target := strings.TrimSpace(p["url"])
	if target != "" {
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest("bad webhook: invalid webhook URL specified")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.bool("drop_pending_updates") {
		f.queue = nil
	}
	f.setAllowedLocked(p)
	if target == "" {
		return f.removeWebhookLocked(), nil
	}
	desc := "Webhook was set"
	if f.hook.url == target && f.hook.secret == p["secret_token"] {
		desc = "Webhook is already set"
	}
	f.stopDelivererLocked()
	f.hook.url, f.hook.secret = target, p["secret_token"]
	f.hook.maxConns, _ = p.int("max_connections")
	if !f.closed {
		ctx, cancel := context.WithCancel(f.ctx)
		prev, done := f.hook.done, make(chan struct{})
		f.hook.cancel, f.hook.done = cancel, done
		f.wg.Add(1)
		go f.deliver(ctx, target, f.hook.secret, prev, done)
	}
	f.notifyLocked()
	return described{true, desc}, nil
}

func (f *Fake) deleteWebhook(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.bool("drop_pending_updates") {
		f.queue = nil
	}
	return f.removeWebhookLocked(), nil
}

func (f *Fake) removeWebhookLocked() described {
	desc := "Webhook is already deleted"
	if f.hook.url != "" {
		desc = "Webhook was deleted"
	}
	f.stopDelivererLocked()
	f.hook.url, f.hook.secret, f.hook.maxConns = "", "", 0
	f.hook.lastErrDate, f.hook.lastErrMsg = 0, ""
	f.notifyLocked()
	return described{true, desc}
}

// stopDelivererLocked cancels the current deliverer; the next one waits
// for it to stop, so deliveries never overlap.
func (f *Fake) stopDelivererLocked() {
	if f.hook.cancel != nil {
		f.hook.cancel()
		f.hook.cancel = nil
	}
}

// webhookInfo is getWebhookInfo's answer.
type webhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

func (f *Fake) getWebhookInfo(*http.Request, params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info := webhookInfo{URL: f.hook.url, PendingUpdateCount: len(f.queue)}
	if f.hook.url != "" {
		info.LastErrorDate, info.LastErrorMessage = f.hook.lastErrDate, f.hook.lastErrMsg
		info.MaxConnections = f.hook.maxConns
		if info.MaxConnections == 0 {
			info.MaxConnections = 40
		}
		info.AllowedUpdates = slices.Sorted(maps.Keys(f.allowed))
	}
	return info, nil
}

// deliver POSTs queued updates to target one at a time, oldest first,
// until ctx is cancelled. It starts once the previous deliverer is done.
func (f *Fake) deliver(ctx context.Context, target, secret string, prev <-chan struct{}, done chan<- struct{}) {
	defer f.wg.Done()
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
	client := &http.Client{Timeout: f.WebhookTimeout}
	tries, lastID := 0, 0
	for {
		f.mu.Lock()
		if len(f.queue) == 0 {
			ch := f.changed
			f.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		u := f.queue[0]
		f.mu.Unlock()
		if u.id != lastID {
			tries, lastID = 0, u.id
		}

		status, err := post(ctx, client, target, secret, u.raw)
		if ctx.Err() != nil {
			return // the webhook was changed or the fake closed
		}
		tries++
		ok := err == nil && status >= 200 && status < 300
		gaveUp := !ok && tries >= max(f.WebhookMaxAttempts, 1)

		f.mu.Lock()
		attempt := WebhookAttempt{UpdateID: u.id, Status: status}
		if err != nil {
			attempt.Err = err.Error()
		}
		f.attempts = append(f.attempts, attempt)
		if !ok {
			f.hook.lastErrDate = time.Now().Unix()
			f.hook.lastErrMsg = attempt.Err
			if err == nil {
				f.hook.lastErrMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			}
		}
		if ok || gaveUp {
			f.removeUpdateLocked(u.id)
		}
		if gaveUp {
			f.dropped = append(f.dropped, u.id)
		}
		f.notifyLocked()
		f.mu.Unlock()

		if !ok && !gaveUp {
			t := time.NewTimer(f.WebhookBackoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// post sends one update and returns the answer's status.
func post(ctx context.Context, client *http.Client, target, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}
