package transporttest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"xmppgw/transports"
)

var numberRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Transport is a fake transport whose addresses are E.164 numbers.
// It records what it is asked to send.
type Transport struct {
	TransportName string
	Accts         map[string]transports.Addr

	// SendFunc, if set, decides the result of each Send.
	SendFunc func(out transports.Outbound) (string, error)

	mu   sync.Mutex
	sent []transports.Outbound
	next int
	sig  chan struct{}
}

var _ transports.Transport = (*Transport)(nil)

// Name implements transports.Transport.
func (t *Transport) Name() string { return t.TransportName }

// ParseAddr accepts E.164 numbers only.
func (t *Transport) ParseAddr(s string) (transports.Addr, error) {
	if !numberRE.MatchString(s) {
		return "", fmt.Errorf("fake: %q is not an E.164 number", s)
	}
	return transports.Addr(s), nil
}

// Accounts implements transports.Transport.
func (t *Transport) Accounts() map[string]transports.Addr { return t.Accts }

// Run waits for ctx.
func (t *Transport) Run(ctx context.Context, _ transports.Sink) error {
	<-ctx.Done()
	return nil
}

// Send records out and returns SendFunc's result, or a new id.
func (t *Transport) Send(_ context.Context, out transports.Outbound) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.SendFunc != nil {
		id, err := t.SendFunc(out)
		if err != nil {
			return "", err
		}
		t.record(out)
		return id, nil
	}
	t.next++
	t.record(out)
	return "R" + strconv.Itoa(t.next), nil
}

func (t *Transport) record(out transports.Outbound) {
	t.sent = append(t.sent, out)
	if t.sig != nil {
		close(t.sig)
		t.sig = nil
	}
}

// Sent returns what was sent successfully so far.
func (t *Transport) Sent() []transports.Outbound {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]transports.Outbound(nil), t.sent...)
}

// Wait waits until at least n messages were sent.
func (t *Transport) Wait(ctx context.Context, n int) ([]transports.Outbound, error) {
	for {
		t.mu.Lock()
		if len(t.sent) >= n {
			s := append([]transports.Outbound(nil), t.sent...)
			t.mu.Unlock()
			return s, nil
		}
		if t.sig == nil {
			t.sig = make(chan struct{})
		}
		sig := t.sig
		t.mu.Unlock()
		select {
		case <-sig:
		case <-ctx.Done():
			return nil, fmt.Errorf("fake: %d of %d messages sent: %w", len(t.Sent()), n, ctx.Err())
		}
	}
}
