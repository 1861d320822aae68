package mapping

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkInMessage: a provider event's whole life in the store, as the
// gateway lives it under load: 16 webhooks at a time each take an event
// (its random key, one stanza) while the writer removes what it has
// written, in groups, all through one committer. It reports the process's
// CPU per message. "seen" dedupes in the seen table (as PostgreSQL does),
// "window" in memory with seen_events (SQLite's way).
func BenchmarkInMessage(b *testing.B) {
	for _, mode := range []string{"seen", "window"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStore(b)
			if mode == "seen" {
				s.events = nil
			}
			ctx := context.Background()
			stanza := []byte(`<message type="chat" from="+15559000001@sms.example.test" to="alice@example.test" id="SM0"><body>disk full on db1</body></message>`)
			var next atomic.Int64
			var wg sync.WaitGroup
			cpu0 := cpuTime()
			b.ResetTimer()
			for range lanes {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						key := fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64())
						if _, err := s.ToXMPP().Accept(ctx, "sms", key, stanza); err != nil {
							b.Error(err)
						}
					}
				})
			}
			done := make(chan struct{})
			var writer sync.WaitGroup
			writer.Go(func() {
				var after int64
				for {
					q, err := s.ToXMPP().PendingAfter(ctx, "sms", after, 64)
					if err != nil {
						b.Error(err)
						return
					}
					if len(q) > 0 {
						after = q[len(q)-1].ID
						if err := s.ToXMPP().Written(ctx, "sms", after); err != nil {
							b.Error(err)
						}
						continue
					}
					select {
					case <-done:
						return
					case <-time.After(200 * time.Microsecond):
					}
				}
			})
			wg.Wait()
			close(done)
			writer.Wait()
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
		})
	}
}
