// Package backoff is the gateway's one retry delay: jittered exponential
// backoff as a pure function of the attempt number, because the attempts
// of a job are counted in the store and survive restarts (a stateful timer
// such as github.com/cenkalti/backoff's would start over), and Sleep, which
// waits for it or for the context.
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
