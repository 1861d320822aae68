//go:build integration

package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFailoverPausedMidWrite pauses the active instance (SIGSTOP: a VM
// paused, a host gone) inside a write transaction, which holds the store's
// write lock: once the standby takes over it must store what comes in, not
// wait for the paused instance's transaction.
func TestFailoverPausedMidWrite(t *testing.T) {
	e := startPair(t)
	db, err := sql.Open("pgx", e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Sessions holding the write lock (mapping's writeLockKey, schema public).
	const writeLock = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = x'786d7070'::int AND objid = x'67770003'::int`
	flood, stopFlood := context.WithCancel(e.ctx)
	defer stopFlood()
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for i := 0; flood.Err() == nil; i++ {
			msg := fmt.Sprintf(`<message type="chat" id="p%d" to="+15557654321@sms.example.test"><body>page %d</body></message>`, i, i)
			if e.alice.Send(flood, msg) != nil {
				return
			}
		}
	}()
	paused := false
	for try := 0; try < 2000 && !paused; try++ {
		var held int
		if err := db.QueryRowContext(e.ctx, writeLock).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			continue
		}
		e.a.Signal(syscall.SIGSTOP)
		time.Sleep(100 * time.Millisecond) // the lock would be given up by now if a was between statements
		if err := db.QueryRowContext(e.ctx, writeLock).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if paused = held == 1; !paused {
			e.a.Signal(syscall.SIGCONT)
		}
	}
	stopFlood()
	<-flooded
	if !paused {
		t.Fatal("never paused a inside a write transaction")
	}
	defer e.a.Signal(syscall.SIGCONT)
	t.Logf("paused a inside a write transaction")
	waitFor(t, e.ctx, "b to become active", func() bool {
		_, body := get(e.b.url + "/readyz")
		return !strings.Contains(body, "standby")
	})
	_, status, err := e.tw.SendInbound(e.ctx, e.b.url+"/hooks/sms/inbound", "+15557654321", "+15550001111", "hello b")
	if err != nil || status != http.StatusOK {
		t.Errorf("b, active, answered an SMS webhook %d (%v): a's open transaction holds the store's write lock", status, err)
	}
	code, body := get(e.b.url + "/readyz")
	t.Logf("b's readyz: %d %s", code, strings.TrimSpace(body))
}
