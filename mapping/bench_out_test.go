package mapping

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOutMessage: an XMPP message's whole life in the store, as the
// gateway lives it under load: the intake commits jobs in groups of 8 while
// 16 workers record sends as they complete, all through one committer. It
// reports the process's CPU per message (cpu-ns/msg), which the wall time
// hides when the checkpointer runs beside the committer.
func BenchmarkOutMessage(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	const group = 8
	sent := make(chan Job, 1024)
	var wg sync.WaitGroup
	for range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range sent {
				if _, err := s.Jobs().Sent(ctx, j, fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64())); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i += group {
		batch := make([]Job, 0, group)
		for k := i; k < min(i+group, b.N); k++ {
			batch = append(batch, benchJob(k))
		}
		res, err := s.Jobs().EnqueueBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for k, r := range res {
			batch[k].ID = r.ID
			sent <- batch[k]
		}
	}
	close(sent)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOutMessage_Baseline: the least the same job needs with the bare
// driver: each group of 8 messages inserted in one transaction, then
// deleted with a provider id recorded for each (a random key) in another.
func BenchmarkOutMessage_Baseline(b *testing.B) {
	db := rawDB(b)
	if _, err := db.Exec(`CREATE TABLE sent (id TEXT PRIMARY KEY, body TEXT) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	const group = 8
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i += group {
		tx, _ := db.Begin()
		var ids []int64
		for k := i; k < min(i+group, b.N); k++ {
			res, err := tx.Exec(`INSERT INTO q (body) VALUES (?)`, fmt.Sprint("disk full on db", k))
			if err != nil {
				b.Fatal(err)
			}
			id, _ := res.LastInsertId()
			ids = append(ids, id)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		tx, _ = db.Begin()
		for _, id := range ids {
			if _, err := tx.Exec(`DELETE FROM q WHERE id = ?`, id); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO sent (id, body) VALUES (?, ?)`,
				fmt.Sprintf("SM%016x%016x", rand.Uint64(), rand.Uint64()), "+15559000001"); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
}
