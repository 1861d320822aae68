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

// benchStanza is an inbound message as the queue holds it.
var benchStanza = []byte(`<message type="chat" from="+15559000001@sms.example.test" to="alice@example.test" id="SM0"><body>disk full on db1</body></message>`)

// BenchmarkInMessage: a provider event's whole life in the store, as the
// gateway lives it under load: 16 webhooks at a time each take an event
// (its random key, one stanza) while the writer removes what it has
// written, in groups, all through one committer. It reports the process's
// CPU per message. (With the events' keys in the seen table, as before
// migration 014, it was 53-58 us CPU a message; in memory, 28-34.)
func BenchmarkInMessage(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	b.ResetTimer()
	for range lanes {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				key := fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64())
				if _, err := s.ToXMPP().Accept(ctx, "sms", key, benchStanza); err != nil {
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
}

// BenchmarkInMessage_Baseline: the least the same job needs with the bare
// driver: each group of 16 events' stanzas inserted in one transaction
// with their keys in the same rows, then deleted in another.
func BenchmarkInMessage_Baseline(b *testing.B) {
	db := rawDB(b)
	const group = 16
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i += group {
		tx, _ := db.Begin()
		var last int64
		for range min(group, b.N-i) {
			key := fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64())
			res, err := tx.Exec(`INSERT INTO q (body) VALUES (?)`, key+string(benchStanza))
			if err != nil {
				b.Fatal(err)
			}
			last, _ = res.LastInsertId()
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM q WHERE id <= ?`, last); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
}
