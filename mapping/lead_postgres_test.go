//go:build integration

package mapping

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/internal/pgtest"
)

// Of two stores on one PostgreSQL database one leads at a time; a leader
// whose session dies learns it, and the other takes over.
func TestLeadPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	a := openTest(t, DriverPostgres, "", dsn)
	b := openTest(t, DriverPostgres, "", dsn)

	lostA, releaseA, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitB := leadAsync(b, ctx)
	select {
	case r := <-waitB:
		t.Fatalf("b leads while a does (err %v)", r.err)
	case <-time.After(2500 * time.Millisecond):
	}
	releaseA()
	releaseA() // idempotent
	var rb leadResult
	select {
	case rb = <-waitB:
		if rb.err != nil {
			t.Fatal(rb.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b does not lead after a released")
	}
	select {
	case <-lostA:
		t.Error("a's lost closed by release")
	default:
	}

	// b's session is killed (as if its server connection died): b learns
	// it has lost the lead, and a, waiting, leads.
	waitA := leadAsync(a, ctx)
	res, err := a.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("terminating the leader's session: %d sessions, %v", n, err)
	}
	select {
	case <-rb.lost:
	case <-time.After(10 * time.Second):
		t.Fatal("b's lost not closed 10s after its session was killed")
	}
	rb.release() // safe after lost
	var ra leadResult
	select {
	case ra = <-waitA:
		if ra.err != nil {
			t.Fatal(ra.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a does not lead after b's session died")
	}

	// A wait for the lead ends with its context.
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if _, _, err := b.Lead(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lead with an ending context: %v", err)
	}
	// b's store still works: the connections it lost were replaced.
	if err := b.KV("t").Set(ctx, "k", "v"); err != nil {
		t.Errorf("b after losing the lead: %v", err)
	}

	// Closing the store ends its lead: lost closes, and the lock is free.
	a.Close()
	select {
	case <-ra.lost:
	case <-time.After(5 * time.Second):
		t.Fatal("a's lost not closed by Close")
	}
	ra.release()
	short2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	_, releaseB, err := b.Lead(short2)
	if err != nil {
		t.Fatalf("b after a closed: %v", err)
	}
	releaseB()
}

// A leader that stops checking its session without closing it (its host
// vanished) loses the lead to the server's idle timeout, within seconds.
func TestLeadExpiresWhenLeaderVanishes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	a := openTest(t, DriverPostgres, "", dsn)
	b := openTest(t, DriverPostgres, "", dsn)
	conn, err := a.acquireLead(ctx) // held, and no watcher checks it
	if err != nil {
		t.Fatal(err)
	}
	defer discard(conn)
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, leadIdle+5*time.Second)
	defer cancel()
	_, release, err := b.Lead(wait)
	if err != nil {
		t.Fatalf("b did not lead within %v of a vanishing: %v", leadIdle+5*time.Second, err)
	}
	release()
	if d := time.Since(start); d < leadIdle-time.Second {
		t.Errorf("b led after %v, before a's session could have expired", d)
	}
}

// TryLead, for a command no gateway may run beside, does not wait: it
// fails at once while another leads, and once it holds the lock no one
// else leads until it releases it (or its store is closed).
func TestTryLeadPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	a := openTest(t, DriverPostgres, "", dsn)
	b := openTest(t, DriverPostgres, "", dsn)

	_, releaseA, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A TryLead that waited for the lock would end with its context's
	// deadline (ErrUnavailable), not ErrLocked.
	try, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.TryLead(try); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another xmppgw runs on this store") {
		t.Fatalf("TryLead beside a leader: err %v, want ErrLocked", err)
	}
	releaseA()
	releaseB, err := b.TryLead(ctx)
	if err != nil {
		t.Fatalf("TryLead with no leader: %v", err)
	}
	waitA := leadAsync(a, ctx)
	select {
	case r := <-waitA:
		t.Fatalf("a leads while b's TryLead holds the lock (err %v)", r.err)
	case <-time.After(2500 * time.Millisecond):
	}
	releaseB()
	releaseB() // idempotent
	select {
	case r := <-waitA:
		if r.err != nil {
			t.Fatal(r.err)
		}
		r.release()
	case <-time.After(5 * time.Second):
		t.Fatal("a does not lead after b's TryLead released")
	}
	// Close gives it up too.
	if _, err := b.TryLead(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()
	_, releaseA, err = a.Lead(ctx)
	if err != nil {
		t.Fatalf("after Close, a cannot lead: %v", err)
	}
	releaseA()
}

// A leader whose host vanishes (no socket closed) in the middle of a write
// transaction, its session idle in that transaction holding the write
// lock: the server ends that session too (txIdle), so the store that
// takes the lead can write.
func TestNewLeaderWritesAfterLeaderVanishedMidWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.Database(t)
	cut := pgtest.NewProxy(t, dsn)
	a := openTest(t, DriverPostgres, "", cut.DSN())
	b := openTest(t, DriverPostgres, "", dsn)
	lostA, releaseA, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	held, frozen := make(chan struct{}), make(chan struct{})
	wroteA := make(chan error, 1)
	go func() { wroteA <- a.tx(ctx, func(*sqlTx) error { close(held); <-frozen; return nil }) }()
	select {
	case <-held:
	case err := <-wroteA:
		t.Fatalf("a's write transaction did not start: %v", err)
	}
	cut.Cut()
	close(frozen) // a's commit never reaches the server
	select {
	case <-lostA:
	case <-ctx.Done():
		t.Fatal("a never learnt it lost the lead after the cut")
	}

	_, releaseB, err := b.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseB()
	if err := b.KV("t").Set(ctx, "k", "v"); err != nil {
		t.Errorf("b, leading, cannot write after a vanished mid-write: %v", err)
	}
	a.Close() // after the lost lead, not waiting for a's commit to time out
	select {
	case err := <-wroteA:
		if err == nil {
			t.Error("a's write, cut off, reported committed")
		}
	case <-ctx.Done():
		t.Fatal("a's write, cut off, never ended")
	}
}

// A store that lost its lead to a network cut (a partition: no socket
// closed) closes at once: its write in flight fails unacknowledged
// instead of waiting for the commit's timeout, as the process must stop
// before another leads.
func TestCloseAfterLeadCutOff(t *testing.T) {
	ctx := context.Background()
	cut := pgtest.NewProxy(t, pgtest.Database(t))
	a := openTest(t, DriverPostgres, "", cut.DSN())
	lost, release, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cut.Cut()
	wrote := make(chan error, 1)
	go func() { wrote <- a.KV("t").Set(ctx, "k", "in flight") }()
	<-lost
	a.Close()
	if err := <-wrote; !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the write in flight: %v; want it cut off (ErrUnavailable), not timed out", err)
	}
}

// closeNow, on a store cut off from its server, sends the server nothing
// more (so waits for no answer, as close's goodbyes on each connection
// would), and its write in flight fails at once.
func TestCloseNowSendsNothingWhenCutOff(t *testing.T) {
	ctx := context.Background()
	cut := pgtest.NewProxy(t, pgtest.Database(t))
	a := openTest(t, DriverPostgres, "", cut.DSN())
	var wg sync.WaitGroup
	for range 4 { // connections with prepared statements, as a running gateway has
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.KV("t").Set(ctx, "k", "v")
			a.KV("t").Get(ctx, "k")
		}()
	}
	wg.Wait()
	cut.Cut()
	wrote := make(chan error, 1)
	go func() { wrote <- a.KV("t").Set(ctx, "k", "in flight") }()
	// The write's first statement is sent, in however many reads the
	// proxy takes it: it then waits for the answer and sends nothing more.
	var heard int64
	for stable := 0; heard == 0 || stable < 20; {
		time.Sleep(10 * time.Millisecond)
		if n := cut.Heard(); n != heard {
			heard, stable = n, 0
		} else {
			stable++
		}
	}
	a.closeNow()
	if err := <-wrote; !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the write in flight: %v; want it cut off (ErrUnavailable), not timed out", err)
	}
	if n := cut.Heard() - heard; n != 0 {
		t.Errorf("closeNow sent the cut-off server %d more (bytes, connections): it waited for answers", n)
	}
}
