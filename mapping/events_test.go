package mapping

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// An event taken before the store was closed is still a duplicate after
// it is opened again.
func TestEventsSurviveReopen(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		// SM1's stanza is written to XMPP before the restart, SM2's is
		// still queued, and SM4 had none.
		for _, key := range []string{"SM1", "SM2"} {
			if dup, err := s.ToXMPP().Accept(ctx, "sms", key, []byte("<message/>")); dup || err != nil {
				t.Fatalf("Accept(%s): dup %v, err %v", key, dup, err)
			}
		}
		if dup, err := s.ToXMPP().Accept(ctx, "sms", "SM4"); dup || err != nil {
			t.Fatalf("Accept(SM4): dup %v, err %v", dup, err)
		}
		q, err := s.ToXMPP().Pending(ctx, "sms", 10)
		if err != nil || len(q) != 2 {
			t.Fatalf("pending %d, %v", len(q), err)
		}
		if err := s.ToXMPP().Written(ctx, "sms", q[0].ID); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t)
		for key, want := range map[string]bool{"SM1": true, "SM2": true, "SM3": false, "SM4": true} {
			if dup, err := s.ToXMPP().Accept(ctx, "sms", key, []byte("<message/>")); dup != want || err != nil {
				t.Errorf("after reopening, Accept(%s): dup %v, err %v; want dup %v", key, dup, err, want)
			}
		}
		// The same key of another transport is another event.
		if dup, err := s.ToXMPP().Accept(ctx, "telegram", "SM1"); dup || err != nil {
			t.Errorf("Accept(telegram, SM1): dup %v, err %v", dup, err)
		}
	})
}

// Of concurrent deliveries of one event, exactly one is taken, and its
// stanza queued once.
func TestEventsConcurrentDeliveries(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		const n = 16
		var wg sync.WaitGroup
		results := make([]bool, n)
		for i := range n {
			wg.Go(func() {
				dup, err := s.ToXMPP().Accept(ctx, "sms", "SM7", []byte("<message id='m7'/>"))
				if err != nil {
					t.Error(err)
				}
				results[i] = dup
			})
		}
		wg.Wait()
		taken := 0
		for _, dup := range results {
			if !dup {
				taken++
			}
		}
		if taken != 1 {
			t.Errorf("%d of %d deliveries taken, want 1", taken, n)
		}
		if q, err := s.ToXMPP().Pending(ctx, "sms", 100); len(q) != 1 || err != nil {
			t.Errorf("%d stanzas queued (%v), want 1", len(q), err)
		}
	})
}

// A delivery whose transaction does not commit leaves the event untaken,
// and a delivery waiting for it takes it.
func TestEventsNotTakenOnFailure(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		failing := func(*sqlTx, int64) error { return errors.New("disk full") }
		if _, _, err := s.acceptIDs(ctx, "sms", "SM8", failing, []byte("<message/>")); err == nil {
			t.Fatal("a failing transaction: no error")
		}
		if dup, err := s.ToXMPP().Accept(ctx, "sms", "SM8", []byte("<message/>")); dup || err != nil {
			t.Errorf("Accept after a failed one: dup %v, err %v; want taken", dup, err)
		}
	})
	// In a bubble, synctest.Wait returns once the second claim is blocked
	// waiting on the first: it is certainly a waiter when the first fails.
	synctest.Test(t, func(t *testing.T) {
		e := newEvents()
		k := hashKey("sms", "SM9")
		if dup, err := e.claim(context.Background(), "sms", k, 0); dup || err != nil {
			t.Fatalf("claim: %v, %v", dup, err)
		}
		got := make(chan bool)
		go func() {
			dup, err := e.claim(context.Background(), "sms", k, 0)
			if err != nil {
				t.Error(err)
			}
			got <- dup
		}()
		synctest.Wait()
		e.done("sms", k, false, 1, 0)
		if <-got {
			t.Fatal("a waiter found the event taken after the first delivery failed")
		}
		// The waiter holds the claim now: once it commits, a delivery
		// again is a duplicate.
		e.done("sms", k, true, 2, 0)
		if dup, err := e.claim(context.Background(), "sms", k, 0); !dup || err != nil {
			t.Errorf("after the waiter took it: dup %v, err %v; want dup", dup, err)
		}
	})
}

// One transport's events do not push another's out of its window.
func TestEventsWindowPerTransport(t *testing.T) {
	e := newEvents()
	ctx := context.Background()
	take := func(transport string, k keyHash) {
		if dup, err := e.claim(ctx, transport, k, 0); dup || err != nil {
			t.Fatalf("claim: dup %v, err %v", dup, err)
		}
		e.done(transport, k, true, 1, 0)
	}
	take("telegram", hashKey("telegram", "u1"))
	for i := range maxEventKeys + 1 {
		var k keyHash
		k[0], k[1], k[2], k[15] = byte(i), byte(i>>8), byte(i>>16), 1
		take("sms", k)
	}
	if dup, _ := e.claim(ctx, "telegram", hashKey("telegram", "u1"), 0); !dup {
		t.Error("telegram's event was forgotten when sms's window filled")
	}
	if n := len(e.win["sms"].at); n != maxEventKeys {
		t.Errorf("sms's window holds %d keys, want %d", n, maxEventKeys)
	}
}

// A SQLite store made before seen_events moves its events taken there, and
// keeps them as duplicates; the resend keys stay in seen.
func TestSeenEventsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.db")
	db, _ := sqliteAt(t, path, 13)
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	for _, q := range []string{
		`PRAGMA user_version = 13`,
		`INSERT INTO seen (transport, key, created) VALUES ('sms', 'SM1', ` + now + `)`,
		`INSERT INTO seen (transport, key, created) VALUES ('sms', 'out:a@x.test' || char(0) || '+2', ` + now + `)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := openTest(t, DriverSQLite, path, "")
	if dup, err := s.ToXMPP().Accept(context.Background(), "sms", "SM1"); !dup || err != nil {
		t.Errorf("Accept(SM1) after migrating: dup %v, err %v; want dup", dup, err)
	}
	var keys []string
	rows, err := s.db.Query(`SELECT key FROM seen`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != "out:a@x.test\x00+2" {
		t.Errorf("seen holds %q, want the resend key alone", keys)
	}
}

// Prune forgets old events on disk too: a store opened after it does not
// take them for duplicates.
func TestEventsPrunedOnDisk(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		for _, key := range []string{"SM1", "SM2"} {
			if _, err := s.ToXMPP().Accept(ctx, "sms", key); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Prune(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t)
		for _, key := range []string{"SM1", "SM2"} {
			if dup, err := s.ToXMPP().Accept(ctx, "sms", key); dup || err != nil {
				t.Errorf("Accept(%s) after pruning and reopening: dup %v, err %v", key, dup, err)
			}
		}
	})
}

// Taken only reads: a key is taken once Accepted, with or without
// stanzas, for its transport only, and after reopening.
func TestEventsTaken(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		taken := func(transport, key string) bool {
			t.Helper()
			ok, err := s.ToXMPP().Taken(ctx, transport, key)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if taken("sms", "answer:SM9") {
			t.Error("a key never accepted is taken")
		}
		if taken("sms", "answer:SM9") {
			t.Error("Taken took the key")
		}
		if _, err := s.ToXMPP().Accept(ctx, "sms", "answer:SM9"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ToXMPP().Accept(ctx, "sms", "in:SM8", []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		if !taken("sms", "answer:SM9") || !taken("sms", "in:SM8") || taken("telegram", "answer:SM9") {
			t.Error("after Accept: not taken, or taken for another transport")
		}
		s.Close()
		s = open(t)
		if !taken("sms", "answer:SM9") {
			t.Error("not taken after reopening")
		}
	})
}

// Written copies an event's key to seen_events with the event's own time:
// a stanza that waited longer than Retention (its component was down)
// puts an old row above recent ones. Reopening skips it and still reads
// back the events taken since, of every transport.
func TestEventsReloadedPastOldRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		real := s.now
		s.now = func() time.Time { return real().Add(-Retention - 24*time.Hour) }
		ids, _, err := s.ToXMPP().AcceptIDs(ctx, "sms", "in:SMold", []byte("<message/>"))
		if err != nil {
			t.Fatal(err)
		}
		s.now = real
		if _, err := s.ToXMPP().Accept(ctx, "tg", "in:7:1", []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		q, err := s.ToXMPP().Pending(ctx, "tg", 10)
		if err != nil || len(q) != 1 {
			t.Fatalf("pending %d, %v", len(q), err)
		}
		if err := s.ToXMPP().Written(ctx, "tg", q[0].ID); err != nil { // tg's stanza written first
			t.Fatal(err)
		}
		if err := s.ToXMPP().Written(ctx, "sms", ids[0]); err != nil { // sms's component came back later
			t.Fatal(err)
		}
		s.Close()
		s = open(t)
		if dup, err := s.ToXMPP().Accept(ctx, "tg", "in:7:1", []byte("<message/>")); err != nil || !dup {
			t.Errorf("after reopening, a Telegram update taken a moment ago: dup %v, err %v; want a duplicate", dup, err)
		}
	})
}
