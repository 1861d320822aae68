package telegram

import (
	"context"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/internal/backoff"
	"xmppgw/transports"
)

// offsetKey is where the polling offset is kept in the transport's state.
const offsetKey = "offset"

// healthEvery is how often webhook mode checks that the bot is reachable.
const healthEvery = time.Minute

// Run implements transports.Transport. It introduces the bot (getMe), then
// either long-polls for updates or registers the webhook, telling sink
// whether Telegram can be reached, until ctx is done.
func (t *Transport) Run(ctx context.Context, sink transports.Sink) error {
	var replier sync.WaitGroup
	replier.Add(1)
	go func() { defer replier.Done(); t.replier(ctx) }()
	t.replying.Store(true)
	defer func() { t.replying.Store(false); replier.Wait() }()
	if !t.retry(ctx, sink, t.getMe) {
		return nil
	}
	if t.s.Mode == ModeWebhook {
		if !t.retry(ctx, sink, t.setWebhook) {
			return nil
		}
		for sleep(ctx, healthEvery) {
			t.retry(ctx, sink, t.getMe)
		}
		return nil
	}
	// getUpdates answers 409 while a webhook is set.
	if !t.retry(ctx, sink, func(ctx context.Context) error {
		return t.call(ctx, "deleteWebhook", tgbotapi.Params{"drop_pending_updates": "false"}, nil)
	}) {
		return nil
	}
	return t.poll(ctx, sink)
}

// poll long-polls getUpdates. The offset advances, in the store, only past
// updates that were handled, so a restart neither loses nor repeats one.
func (t *Transport) poll(ctx context.Context, sink transports.Sink) error {
	var offset int
	if !t.retry(ctx, sink, func(ctx context.Context) error {
		v, err := t.state.Get(ctx, offsetKey)
		if err == nil && v != "" {
			offset, err = strconv.Atoi(v)
		}
		return err
	}) {
		return nil
	}
	failures := 0
	for ctx.Err() == nil {
		var updates []update
		wait := t.pollTimeout
		if failures > 0 {
			wait = 0 // after a failure, learn at once that Telegram is back
		}
		err := t.call(ctx, "getUpdates", tgbotapi.Params{
			"offset":          strconv.Itoa(offset),
			"timeout":         strconv.Itoa(int(wait / time.Second)),
			"allowed_updates": allowedUpdates,
		}, &updates)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			sink.Reachable(false, err.Error())
			t.log.Warn("getUpdates failed; will retry", "err", err)
			failures++
			sleep(ctx, retryWait(failures))
			continue
		}
		sink.Reachable(true, "")
		failures = 0
		for _, u := range updates {
			if err := t.handle(ctx, sink, u); err != nil {
				// Not stored: poll again from this update.
				t.log.Error("update not handled; will retry", "update_id", u.UpdateID, "err", err)
				failures++
				sleep(ctx, retryWait(failures))
				break
			}
			next := u.UpdateID + 1
			if err := t.state.Set(ctx, offsetKey, strconv.Itoa(next)); err != nil {
				t.log.Error("saving the update offset failed; will retry", "err", err)
				failures++
				sleep(ctx, retryWait(failures))
				break
			}
			offset = next
		}
	}
	return nil
}

// retry calls f until it succeeds or ctx ends, telling sink about failures.
// It reports whether f succeeded.
func (t *Transport) retry(ctx context.Context, sink transports.Sink, f func(context.Context) error) bool {
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			sink.Reachable(true, "")
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		sink.Reachable(false, err.Error())
		t.log.Warn("Telegram request failed; will retry", "err", err)
		if !sleep(ctx, retryWait(attempt)) {
			return false
		}
	}
}

// getMe learns the bot's username, for help texts.
func (t *Transport) getMe(ctx context.Context) error {
	var me tgbotapi.User
	if err := t.call(ctx, "getMe", nil, &me); err != nil {
		return err
	}
	t.mu.Lock()
	t.botName = me.UserName
	t.mu.Unlock()
	return nil
}

// setWebhook points Telegram at the update webhook, with the secret.
func (t *Transport) setWebhook(ctx context.Context) error {
	return t.call(ctx, "setWebhook", tgbotapi.Params{
		"url":             t.publicURL + "/update",
		"secret_token":    t.s.WebhookSecret,
		"allowed_updates": allowedUpdates,
	}, nil)
}

// pollRetry is the wait after failures in a row: 1 s doubling to 30 s.
var pollRetry = backoff.Policy{Min: time.Second, Max: 30 * time.Second}

// backoff is the wait after the n-th failure in a row (n >= 1).
func retryWait(n int) time.Duration { return pollRetry.Delay(max(n-1, 0)) }

var sleep = backoff.Sleep
