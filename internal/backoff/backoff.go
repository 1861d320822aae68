package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is Min doubling on every attempt up to Max.
type Policy struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry number attempt (0-based): Min·2^attempt
// capped at Max, jittered to a random point between half of it and all of
// it, so that retries after a shared failure spread out.
func (p Policy) Delay(attempt int) time.Duration {
	d := p.Max
	if attempt < 62 && p.Min<<attempt > 0 && p.Min<<attempt < p.Max {
		d = p.Min << attempt
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or until ctx is done; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
