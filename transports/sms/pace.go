package sms

import (
	"context"
	"sync"

	"golang.org/x/time/rate"

	"xmppgw/transports"
)

// margin keeps the pace a little under each limit, so that requests
// bunched up by network jitter still arrive within it.
const margin = 0.97

// pacer keeps sends within Twilio's limits: per sender number and in total.
type pacer struct {
	total  *rate.Limiter
	perNum rate.Limit
	burst  int

	mu      sync.Mutex
	numbers map[transports.Addr]*rate.Limiter
}

func newPacer(l RateLimits) *pacer {
	return &pacer{
		total:   rate.NewLimiter(rate.Limit(l.TotalPerSecond*margin), max(1, int(l.TotalPerSecond))),
		perNum:  rate.Limit(l.NumberPerSecond * margin),
		burst:   1, // a steady rate, as a carrier sends from one number
		numbers: map[transports.Addr]*rate.Limiter{},
	}
}

// wait blocks until a message from number may be sent, or ctx ends.
func (p *pacer) wait(ctx context.Context, number transports.Addr) error {
	p.mu.Lock()
	l := p.numbers[number]
	if l == nil {
		l = rate.NewLimiter(p.perNum, p.burst)
		p.numbers[number] = l // one per configured number: bounded
	}
	p.mu.Unlock()
	if err := l.Wait(ctx); err != nil {
		return err
	}
	return p.total.Wait(ctx)
}

// Pace implements transports.Pacer.
func (t *Transport) Pace(ctx context.Context, out transports.Outbound) error {
	return t.pace.wait(ctx, out.Account)
}

// HourlyLimit implements transports.Quota.
func (t *Transport) HourlyLimit() int { return *t.settings.RateLimits.UserPerHour }
