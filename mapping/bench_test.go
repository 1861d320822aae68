package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"
)

// Each benchmark X has a baseline X_Baseline: the bare library doing the
// least the same job needs. make bench prints X's time as a ratio to it.

func BenchmarkContactJID(b *testing.B) {
	for b.Loop() {
		if _, err := ContactJID("+15551234567", "sms.example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContactJID_Baseline(b *testing.B) {
	for b.Loop() {
		if _, err := jid.New("+15551234567", "sms.example.com", ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddrOf(b *testing.B) {
	j := jid.MustParse(`+15551234567@sms.example.com`)
	for b.Loop() {
		_ = AddrOf(j)
	}
}

func BenchmarkAddrOf_Baseline(b *testing.B) {
	j := jid.MustParse(`+15551234567@sms.example.com`)
	for b.Loop() {
		_ = j.Localpart()
	}
}

func benchStore(b *testing.B) *Store {
	s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "gw.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// rawDB is the baseline: the same driver and pragmas, one plain table.
func rawDB(b *testing.B) *sql.DB {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE q (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)`); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkEnqueue: one XMPP message made durable (job, resend key).
func BenchmarkEnqueue(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "alice@example.com/phone", Account: "+15550001111",
			Remote: "+15551234567", Body: "disk full on db1", StanzaID: fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnqueue_Baseline(b *testing.B) {
	db := rawDB(b)
	stmt, _ := db.Prepare(`INSERT INTO q (body) VALUES (?)`)
	for b.Loop() {
		if _, err := stmt.Exec("disk full on db1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDequeue: read the next jobs and record each as sent.
func BenchmarkDequeue(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for i := range b.N {
		s.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "alice@example.com/phone", Account: "+15550001111",
			Remote: "+15551234567", Body: "disk full on db1", StanzaID: fmt.Sprint(i)})
	}
	b.ResetTimer()
	var last int64
	for i := 0; i < b.N; {
		jobs, err := s.Jobs().Pending(ctx, "sms", last, 64)
		if err != nil || len(jobs) == 0 {
			b.Fatal(err)
		}
		for _, j := range jobs {
			if _, err := s.Jobs().Sent(ctx, j, fmt.Sprintf("SM%d", j.ID)); err != nil {
				b.Fatal(err)
			}
			last = j.ID
			i++
		}
	}
}

func BenchmarkDequeue_Baseline(b *testing.B) {
	db := rawDB(b)
	for range b.N {
		db.Exec(`INSERT INTO q (body) VALUES ('disk full on db1')`)
	}
	b.ResetTimer()
	del, _ := db.Prepare(`DELETE FROM q WHERE id = ?`)
	var last int64
	for i := 0; i < b.N; {
		rows, err := db.Query(`SELECT id, body FROM q WHERE id > ? ORDER BY id LIMIT 64`, last)
		if err != nil {
			b.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var body string
			rows.Scan(&id, &body)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if _, err := del.Exec(id); err != nil {
				b.Fatal(err)
			}
			last = id
			i++
		}
	}
}

// benchJob is a job as the bench's out run queues it.
func benchJob(i int) Job {
	return Job{Transport: "sms", Sender: "alice@example.com/phone", Account: "+15550001111",
		Remote: fmt.Sprintf("+1555900%04d", i%100), Body: fmt.Sprint("disk full on db", i), StanzaID: fmt.Sprint(i)}
}

// intakeGroup is the group size of the batch benchmarks: what the intake
// commits at once under load.
const intakeGroup = 64

// BenchmarkEnqueueBatch: XMPP messages made durable as the intake does, in
// groups of intakeGroup per transaction; ns per message.
func BenchmarkEnqueueBatch(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for i := 0; i < b.N; i += intakeGroup {
		jobs := make([]Job, 0, intakeGroup)
		for k := i; k < min(i+intakeGroup, b.N); k++ {
			jobs = append(jobs, benchJob(k))
		}
		if _, err := s.Jobs().EnqueueBatch(ctx, jobs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnqueueBatch_Baseline(b *testing.B) {
	db := rawDB(b)
	stmt, _ := db.Prepare(`INSERT INTO q (body) VALUES (?)`)
	for i := 0; i < b.N; i += intakeGroup {
		tx, _ := db.Begin()
		for k := i; k < min(i+intakeGroup, b.N); k++ {
			if _, err := tx.Stmt(stmt).Exec("disk full on db1"); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// lanes is the number of concurrent senders, as the gateway's workers.
const lanes = 16

// BenchmarkSentLanes: jobs recorded as sent by 16 concurrent workers, as
// the dispatcher's lanes do (their writes are committed in groups); ns per
// job.
func BenchmarkSentLanes(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var jobs []Job
	for i := 0; i < b.N; i += intakeGroup {
		var batch []Job
		for k := i; k < min(i+intakeGroup, b.N); k++ {
			batch = append(batch, benchJob(k))
		}
		res, err := s.Jobs().EnqueueBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for k, r := range res {
			batch[k].ID = r.ID
		}
		jobs = append(jobs, batch...)
	}
	next := make(chan Job, len(jobs))
	for _, j := range jobs {
		next <- j
	}
	close(next)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if _, err := s.Jobs().Sent(ctx, j, fmt.Sprintf("SM%032x", rand.Uint64())); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkSentLanes_Baseline(b *testing.B) {
	db := rawDB(b)
	for range b.N {
		db.Exec(`INSERT INTO q (body) VALUES ('disk full on db1')`)
	}
	b.ResetTimer()
	del, _ := db.Prepare(`DELETE FROM q WHERE id = ?`)
	for i := 0; i < b.N; i += lanes {
		tx, _ := db.Begin()
		for id := i + 1; id <= min(i+lanes, b.N); id++ {
			if _, err := tx.Stmt(del).Exec(id); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
