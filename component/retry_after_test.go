package component

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"xmppgw/transports"
)

// A rate limit's wait (Telegram's retry_after, Twilio's Retry-After) is
// honoured within retry_for; one that ends past it fails the message at
// once, naming the wait, rather than keeping the sender waiting for it (a
// 429 means the provider took nothing). Unless part of the message went
// out before the 429 (PartSent): then the wait is honoured and the rest
// sent after it, once past retry_for; a failure then says that part was
// delivered.
func TestRetryAfterPastRetryFor(t *testing.T) {
	failed := func(text string) string {
		return `<message type="error" id="r1" from="+15551234567@sms.example.test" to="alice@example.test/a"><error type="wait" by="sms.example.test"><remote-server-timeout ` +
			errNS + `></remote-server-timeout><text ` + errNS + `>` + text + `</text></error></message>`
	}
	cases := []struct {
		name       string
		retryAfter []time.Duration // the waits the 429s ask for; the next send succeeds
		partSent   bool            // the 429s came after part of the message went out
		sends      int
		took       time.Duration // until the sender is told, or the message sent
		queued     string        // to the sender
	}{
		0: {name: "an hour's wait, retry_for 10 minutes: failed at once", retryAfter: []time.Duration{time.Hour},
			sends: 1, took: 0,
			queued: failed("fake error 429: Too Many Requests (the wait asked for, 1h0m0s, ends past retry_for: 10m0s left)")},
		1: {name: "a wait within retry_for: waited, then sent", retryAfter: []time.Duration{2 * time.Minute},
			sends: 2, took: 2 * time.Minute},
		2: {name: "waits within retry_for until one ends past it", retryAfter: []time.Duration{4 * time.Minute, 4 * time.Minute, 4 * time.Minute},
			sends: 3, took: 8 * time.Minute,
			queued: failed("fake error 429: Too Many Requests (the wait asked for, 4m0s, ends past retry_for: 2m0s left)")},
		3: {name: "part sent, then an hour's wait: waited, then the rest sent", retryAfter: []time.Duration{time.Hour},
			partSent: true, sends: 2, took: time.Hour},
		4: {name: "part sent, then an hour's wait twice: failed past retry_for, saying part was delivered",
			retryAfter: []time.Duration{time.Hour, time.Hour}, partSent: true, sends: 2, took: time.Hour,
			queued: failed("fake error 429: Too Many Requests (part of the message was delivered)")},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, tr, store := testGateway(t)
				g.o.RetryFor = 10 * time.Minute
				g.backoff = func(int) time.Duration { return time.Second }
				sends := 0
				tr.SendFunc = func(transports.Outbound) (string, error) {
					sends++
					if sends <= len(tc.retryAfter) {
						return "", &transports.Error{Kind: transports.KindRateLimited, Provider: "fake", Code: "429",
							Message: "Too Many Requests", RetryAfter: tc.retryAfter[sends-1], PartSent: tc.partSent}
					}
					return "P1", nil
				}
				ctx := context.Background()
				if got := handle(t, g, `<message type="chat" id="r1" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>hi</body></message>`); got != "" {
					t.Fatalf("answered %s", got)
				}
				jobs, err := store.Jobs().Pending(ctx, "sms", 0, 10)
				if err != nil || len(jobs) != 1 {
					t.Fatalf("queued %d jobs, %v", len(jobs), err)
				}
				began := time.Now()
				g.sendJob(ctx, jobs[0])
				if took := time.Since(began); took != tc.took || sends != tc.sends {
					t.Errorf("%s: done after %v and %d sends, want %v and %d", tc.name, took, sends, tc.took, tc.sends)
				}
				if got := queued(t, store); got != tc.queued {
					t.Errorf("%s: to the sender\n%s\nwant\n%s", tc.name, got, tc.queued)
				}
			})
		})
	}
}
