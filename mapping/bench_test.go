package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
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
	q.Add("_pragma", "synchronous(NORMAL)")
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
		if _, _, err := s.Enqueue(ctx, Job{Transport: "sms", Sender: "alice@example.com/phone", Account: "+15550001111",
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
		s.Enqueue(ctx, Job{Transport: "sms", Sender: "alice@example.com/phone", Account: "+15550001111",
			Remote: "+15551234567", Body: "disk full on db1", StanzaID: fmt.Sprint(i)})
	}
	b.ResetTimer()
	var last int64
	for i := 0; i < b.N; {
		jobs, err := s.Pending(ctx, "sms", last, 64)
		if err != nil || len(jobs) == 0 {
			b.Fatal(err)
		}
		for _, j := range jobs {
			if _, err := s.Sent(ctx, j, fmt.Sprintf("SM%d", j.ID)); err != nil {
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
