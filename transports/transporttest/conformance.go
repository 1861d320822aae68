package transporttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"xmppgw/transports"
)

// Harness is a transport on its provider's fake, as the transport's own
// tests build it for Run. Every field is required.
type Harness struct {
	// Transport is the transport under test; its provider is the fake.
	Transport transports.Transport
	// Valid maps addresses as a user may type them to ParseAddr's normal
	// form; Invalid are addresses ParseAddr refuses.
	Valid   map[string]transports.Addr
	Invalid []string
	// Outbound is a text message Send delivers.
	Outbound transports.Outbound
	// Requests counts the requests the fake provider has had so far.
	Requests func() int
	// FailSends makes the fake answer every send with the HTTP status and
	// the provider's usual error body for it; 0 stops failing.
	FailSends func(status int)
	// HoldSends makes the fake hold every send until release is called.
	HoldSends func() (release func())
	// Receive has the provider send the transport inbound event i, a text
	// from a contact (the same i again is the same event, as a provider
	// retries it), with sink the transport's sink. It returns once sink has
	// been handed the event at least once, and reports whether the
	// transport acknowledged it to the provider: a webhook answered 2xx,
	// or a polled update's offset confirmed. A transport that did not must
	// be handing it over again.
	Receive func(t *testing.T, sink transports.Sink, i int) (acked bool)
}

// Run is the conformance suite every transport's tests run: the parts of
// the transports.Transport and transports.Sink contracts that the core
// relies on, checked against the transport on its provider's fake.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	t.Run("ParseAddr", func(t *testing.T) { checkParseAddr(t, newHarness(t)) })
	t.Run("SendHonoursContext", func(t *testing.T) { checkSendContext(t, newHarness(t)) })
	t.Run("SendErrorsClassified", func(t *testing.T) { checkSendErrors(t, newHarness(t)) })
	t.Run("SendRefusesEmpty", func(t *testing.T) {
		h := newHarness(t)
		before := h.Requests()
		CheckEmptyRefused(t, h.Transport)
		if n := h.Requests() - before; n != 0 {
			t.Errorf("empty messages made %d requests to the provider", n)
		}
	})
	t.Run("ReactionAndRetractionIDs", func(t *testing.T) { checkReferenceIDs(t, newHarness(t)) })
	t.Run("InboundStableID", func(t *testing.T) { checkInboundID(t, newHarness(t)) })
	t.Run("FailedDeliverRetried", func(t *testing.T) {
		h := newHarness(t)
		sink := &Sink{Err: errors.New("store is down")}
		if h.Receive(t, sink, 1) {
			t.Error("a message the sink could not take was acknowledged to the provider")
		}
	})
	t.Run("NoRecipientAcknowledged", func(t *testing.T) {
		h := newHarness(t)
		sink := &Sink{Err: transports.ErrNoRecipient}
		if !h.Receive(t, sink, 1) {
			t.Error("a message that reaches nobody (ErrNoRecipient) was not acknowledged: the provider would retry it for nothing")
		}
	})
}

// checkParseAddr: ParseAddr accepts the valid forms, giving their normal
// form, is idempotent, refuses the invalid ones with an error that names
// them, and never makes a request.
func checkParseAddr(t *testing.T, h *Harness) {
	before := h.Requests()
	for in, want := range h.Valid {
		got, err := h.Transport.ParseAddr(in)
		if err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", in, got, err, want)
			continue
		}
		if again, err := h.Transport.ParseAddr(string(got)); err != nil || again != got {
			t.Errorf("ParseAddr(%q) = %q, %v; want it unchanged (idempotent)", got, again, err)
		}
	}
	for _, in := range h.Invalid {
		if got, err := h.Transport.ParseAddr(in); err == nil || err.Error() == "" {
			t.Errorf("ParseAddr(%q) = %q, %v; want an error saying what is wrong", in, got, err)
		}
	}
	if n := h.Requests() - before; n != 0 {
		t.Errorf("ParseAddr made %d requests to the provider; it must do no I/O", n)
	}
}

// checkSendContext: a send the provider holds returns once its context
// ends, with an error.
func checkSendContext(t *testing.T, h *Harness) {
	release := h.HoldSends()
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.Transport.Send(ctx, h.Outbound)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Send succeeded while the provider held it")
		}
	case <-time.After(20 * time.Second): // a guard, not a timing assertion
		t.Fatal("Send did not return after its context ended")
	}
}

// checkSendErrors: each provider failure comes back as a classified
// *transports.Error whose Kind says whether to retry.
func checkSendErrors(t *testing.T, h *Harness) {
	cases := []struct {
		status int
		kinds  []transports.Kind // any of these
		retry  bool
	}{
		{500, []transports.Kind{transports.KindUnavailable}, true},
		{503, []transports.Kind{transports.KindUnavailable}, true},
		{429, []transports.Kind{transports.KindRateLimited}, true},
		{401, []transports.Kind{transports.KindAuth}, false},
		{400, []transports.Kind{transports.KindRejected, transports.KindInvalidAddress, transports.KindUnreachable}, false},
	}
	for _, c := range cases {
		h.FailSends(c.status)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		id, err := h.Transport.Send(ctx, h.Outbound)
		cancel()
		var pe *transports.Error
		switch {
		case !errors.As(err, &pe):
			t.Errorf("HTTP %d: Send = %q, %v; want a *transports.Error", c.status, id, err)
		case !hasKind(c.kinds, pe.Kind) || pe.Temporary() != c.retry:
			t.Errorf("HTTP %d: Send's error %v is %s (temporary %v); want one of %v (temporary %v)",
				c.status, err, pe.Kind, pe.Temporary(), c.kinds, c.retry)
		}
	}
	h.FailSends(0)
	if id, err := h.Transport.Send(context.Background(), h.Outbound); err != nil || id == "" {
		t.Errorf("once the provider answers again: Send = %q, %v; want a provider id", id, err)
	}
}

// checkReferenceIDs: a reaction to a message Send returned, and its
// retraction, are sent (or refused, KindRejected, by a network that cannot)
// and never answered with that message's id: the core would take them for
// it (see transports.Transport.Send).
func checkReferenceIDs(t *testing.T, h *Harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id, err := h.Transport.Send(ctx, h.Outbound)
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v; want a provider id", id, err)
	}
	base := transports.Outbound{Account: h.Outbound.Account, To: h.Outbound.To}
	react, retract := base, base
	react.ID, react.ReactTo, react.Reactions = h.Outbound.ID+"-react", id, []string{"👍"}
	retract.ID, retract.Retracts = h.Outbound.ID+"-retract", id
	for _, out := range []transports.Outbound{react, retract} {
		got, err := h.Transport.Send(ctx, out)
		var pe *transports.Error
		switch {
		case err != nil && (!errors.As(err, &pe) || pe.Kind != transports.KindRejected):
			t.Errorf("Send(%s of %q) failed: %v; want it sent, or refused as KindRejected", out.ID, id, err)
		case err == nil && got == id:
			t.Errorf("Send(%s of %q) = %q: the id of the message it refers to; want \"\" or an id of its own", out.ID, id, got)
		}
	}
}

func hasKind(kinds []transports.Kind, k transports.Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// checkInboundID: an inbound message is handed over with a non-empty ID,
// the same when the provider sends it again (the core deduplicates on it),
// and a different event has another.
func checkInboundID(t *testing.T, h *Harness) {
	sink := &Sink{}
	if !h.Receive(t, sink, 1) || !h.Receive(t, sink, 1) || !h.Receive(t, sink, 2) {
		t.Fatal("a message the sink took was not acknowledged to the provider")
	}
	got := sink.Inbound()
	if len(got) < 3 {
		t.Fatalf("the sink was handed %d messages, want 3", len(got))
	}
	first, again, other := got[0].ID, got[len(got)-2].ID, got[len(got)-1].ID
	if first == "" || first != again {
		t.Errorf("the same event was handed over with ids %q and %q; want one non-empty id", first, again)
	}
	if other == first {
		t.Errorf("two events were handed over with the same id %q", first)
	}
}

// Sink is a transports.Sink that records what it is handed; Deliver and
// Report return Err.
type Sink struct {
	Err error

	mu      sync.Mutex
	inbound []transports.Inbound
	changed chan struct{}
}

// Deliver records in and returns s.Err.
func (s *Sink) Deliver(_ context.Context, in transports.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbound = append(s.inbound, in)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.Err
}

// Report returns s.Err.
func (s *Sink) Report(context.Context, transports.Status) error { return s.Err }

// Reachable does nothing.
func (s *Sink) Reachable(bool, string) {}

// Redeem and Unlink refuse: nothing is linked.
func (s *Sink) Redeem(context.Context, transports.Addr, string, string) (string, error) {
	return "", &transports.LinkError{Msg: "not linkable here"}
}
func (s *Sink) Unlink(context.Context, transports.Addr) (string, error) {
	return "", &transports.LinkError{Msg: "not linkable here"}
}

// Inbound returns what Deliver was handed, in order.
func (s *Sink) Inbound() []transports.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]transports.Inbound(nil), s.inbound...)
}

// WaitInbound waits until Deliver has been handed more than n messages, and
// returns them; it fails t after a generous bound.
func (s *Sink) WaitInbound(t *testing.T, n int) []transports.Inbound {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		if len(s.inbound) > n {
			got := append([]transports.Inbound(nil), s.inbound...)
			s.mu.Unlock()
			return got
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the sink was handed %d messages, want more", n)
		}
	}
}

// SinkFunc is a transports.Sink that passes each call to the sink it
// returns at the time: a harness hands its transport one SinkFunc and each
// check its own Sink.
type SinkFunc func() transports.Sink

func (f SinkFunc) Deliver(ctx context.Context, in transports.Inbound) error {
	return f().Deliver(ctx, in)
}
func (f SinkFunc) Report(ctx context.Context, st transports.Status) error { return f().Report(ctx, st) }
func (f SinkFunc) Reachable(ok bool, why string)                          { f().Reachable(ok, why) }
func (f SinkFunc) Redeem(ctx context.Context, r transports.Addr, name, code string) (string, error) {
	return f().Redeem(ctx, r, name, code)
}
func (f SinkFunc) Unlink(ctx context.Context, r transports.Addr) (string, error) {
	return f().Unlink(ctx, r)
}

// EmptyOutbounds are messages with nothing to send (transports.Outbound.Empty).
var EmptyOutbounds = []transports.Outbound{
	{},
	{Body: " \n\t"},
	{Body: "", Replaces: "R1"},
	{Body: "", ReplyTo: "R1", Quote: "earlier text"},
}

// CheckEmptyRefused checks the Send contract for messages with nothing to
// send: each gets a *transports.Error of KindRejected, and no request.
// Pass a transport that fails the test on any request (a zero value does:
// it has nowhere to send).
func CheckEmptyRefused(t *testing.T, tr transports.Transport) {
	t.Helper()
	for i, out := range EmptyOutbounds {
		out.To, out.ID = "1", "empty"
		id, err := tr.Send(context.Background(), out)
		var pe *transports.Error
		if !errors.As(err, &pe) || pe.Kind != transports.KindRejected || id != "" {
			t.Errorf("%d: Send(%+v) = %q, %v; want a KindRejected *transports.Error", i, out, id, err)
		}
	}
}
