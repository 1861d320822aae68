//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"xmppgw/component/conn"
)

// A text the gateway wrote to Prosody just before Prosody died (written,
// its write barrier not answered) is written again as soon as the
// component has reconnected to the restarted server: it reaches alice
// before the dead session's barrier would have timed out
// (conn.BarrierTimeout), which it waited for before.
func TestReconnectResendsUnconfirmedAtOnce(t *testing.T) {
	e := startEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // the failure bound
	defer cancel()
	alice := e.login(t, "alice")
	inbound := e.public + "/hooks/sms/inbound"
	const written = `xmppgw_relay_latency_seconds_count{direction="in",transport="sms"}`
	if _, st, err := e.twilio.SendInbound(ctx, inbound, "+15551234567", aliceNum, "warm-up"); err != nil || st != 200 {
		t.Fatalf("webhook: %d %v", st, err)
	}
	if got := nextMessage(t, alice); got.Body != "warm-up" {
		t.Fatalf("alice got %s", got.XML)
	}
	_, body := get(e.public + "/metrics")
	before := metricValue(body, written)

	// Prosody hangs (SIGSTOP): what the gateway writes now stays in the
	// socket's buffers, and its barrier is never answered. Then it is
	// killed and restarted, as a supervisor restarts a crashed server.
	b, err := os.ReadFile(filepath.Join(e.prosody.Dir, "prosody.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, st, err := e.twilio.SendInbound(ctx, inbound, "+15551234567", aliceNum, "in flight"); err != nil || st != 200 {
		t.Fatalf("webhook: %d %v", st, err)
	}
	waitFor(t, ctx, "the gateway to write the text", func() bool {
		_, body := get(e.public + "/metrics")
		return metricValue(body, written) > before
	})
	writtenAt := time.Now()
	if err := e.srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	alice = e.login(t, "alice")
	got, err := alice.NextMessage(ctx)
	if err != nil || got.Body != "in flight" {
		t.Fatalf("alice got %s, %v", got.XML, err)
	}
	if d := time.Since(writtenAt); d >= conn.BarrierTimeout {
		t.Errorf("the text reached alice %v after the gateway wrote it to the server that died: it waited for the dead session's barrier to time out (%v)",
			d.Round(time.Second), conn.BarrierTimeout)
	}
}
