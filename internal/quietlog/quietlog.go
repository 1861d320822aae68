package quietlog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Every is how often a record of one message gets through.
const Every = time.Minute

// New returns a logger that writes to log's handler at most one record of
// each message per Every; the next record that gets through carries
// "repeats_dropped", the number dropped in between. Loggers derived from it
// (With, WithGroup) share its count. The messages must be constant strings:
// each one is remembered for good. A nil log discards.
func New(log *slog.Logger) *slog.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return slog.New(&handler{next: log.Handler(), s: &state{now: time.Now, seen: map[string]*seen{}}})
}

type state struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]*seen
}

type seen struct {
	last    time.Time
	dropped int
}

// pass reports whether a record of msg gets through now, and how many were
// dropped before it.
func (s *state) pass(msg string) (ok bool, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.seen[msg]
	if e == nil {
		s.seen[msg] = &seen{last: now}
		return true, 0
	}
	if now.Sub(e.last) < Every {
		e.dropped++
		return false, 0
	}
	dropped = e.dropped
	e.last, e.dropped = now, 0
	return true, dropped
}

type handler struct {
	next slog.Handler
	s    *state
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	ok, dropped := h.s.pass(r.Message)
	if !ok {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeats_dropped", dropped))
	}
	return h.next.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{next: h.next.WithAttrs(as), s: h.s}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), s: h.s}
}
