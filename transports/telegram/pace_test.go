package telegram

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"xmppgw/transports"
)

// Paced at Telegram's limits, the bot never sees a 429 from a server that
// enforces them: here one message a second to a chat, 3 in a row, which
// take two seconds. Unpaced, the server answers the second one 429. On the
// bubble's clock, without a network: no jitter, however busy the machine.
func TestPacingAvoidsFloodControl(t *testing.T) {
	for _, paced := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			limits := RateLimits{ChatPerSecond: 1, GroupPerMinute: 20, TotalPerSecond: 30}
			if !paced {
				limits = RateLimits{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 1000}
			}
			tr, fake := newInMemory(t, limits)
			fake.AddChat(dm)
			fake.SetRateLimit(1)
			ctx := testCtx(t)
			start := time.Now()
			var errs []error
			for i := range 3 {
				out := transports.Outbound{To: "111", Body: "tick", ID: string(rune('a' + i))}
				if err := tr.Pace(ctx, out); err != nil {
					t.Fatal(err)
				}
				if _, err := tr.Send(ctx, out); err != nil {
					errs = append(errs, err)
				}
			}
			took := time.Since(start)
			if !paced {
				var pe *transports.Error
				if len(errs) == 0 || !errors.As(errs[0], &pe) || pe.Kind != transports.KindRateLimited {
					t.Errorf("unpaced: %v, %d answers 429; want the fake to refuse", errs, fake.Count429())
				}
				return
			}
			if len(errs) > 0 || fake.Count429() != 0 {
				t.Errorf("paced: %v, %d answers 429", errs, fake.Count429())
			}
			if n := len(fake.SentTo(111)); n != 3 {
				t.Errorf("%d sent, want 3", n)
			}
			if took < 2*time.Second {
				t.Errorf("3 messages paced at 1 a second took %v", took)
			}
		})
	}
}
