package mapping

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// probeTTL is how long a write probe's outcome answers CheckWrite.
const probeTTL = time.Second

// probeTimeout bounds a write probe that the database does not answer.
const probeTimeout = 30 * time.Second

// writeProbe is one write made to learn whether the store can be written.
type writeProbe struct {
	done chan struct{} // closed when err and at are set
	err  error
	at   time.Time
}

// CheckWrite reports whether the store can be written: a readiness check.
// It commits a small write (in the kv table, under no transport), at most
// once per second: calls meanwhile share its outcome. It returns when that
// write is committed or has failed, or when ctx ends (an error wrapping
// ErrUnavailable; the write goes on).
func (s *Store) CheckWrite(ctx context.Context) error {
	s.probeMu.Lock()
	s.closeMu.Lock()
	if isClosed(s.closed) {
		s.closeMu.Unlock()
		s.probeMu.Unlock()
		return fmt.Errorf("%w: store closed", ErrUnavailable)
	}
	p := s.probe
	if p == nil || (isClosed(p.done) && time.Since(p.at) >= probeTTL) {
		s.probes.Add(1) // before Close waits for them: closeMu orders the two
		p = &writeProbe{done: make(chan struct{})}
		s.probe = p
		go func() {
			defer s.probes.Done()
			pctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			defer cancel()
			p.err = s.KV("").Set(pctx, "write_probe", strconv.FormatInt(s.millis(), 10))
			p.at = time.Now()
			close(p.done)
		}()
	}
	s.closeMu.Unlock()
	s.probeMu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("%w: no answer to a write: %v", ErrUnavailable, ctx.Err())
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
