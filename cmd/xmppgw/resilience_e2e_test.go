//go:build integration

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/xmpptest"
)

// While the XMPP server is down, SMS replies are acknowledged and stored; after it is
// back, the component reconnects by itself and delivers them in order.
func TestReconnectDeliversQueued(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		if err := e.srv.Stop(); err != nil {
			t.Fatal(err)
		}
		inbound := e.public + "/hooks/sms/inbound"
		for _, body := range []string{"first", "second", "third"} {
			if _, status, err := e.twilio.SendInbound(ctx, inbound, "+15551234567", aliceNum, body); err != nil || status != 200 {
				t.Fatalf("webhook while XMPP is down: %d, %v", status, err)
			}
		}
		if err := e.srv.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitReady(t)
		if ej, ok := e.srv.(*xmpptest.Ejabberd); ok {
			// ejabberd's mod_offline routes stored messages anew once the
			// user is available, so a message that comes live meanwhile
			// overtakes them. Log in once all three are stored.
			waitOfflineCount(t, ej, "alice", 3)
		}
		alice := e.login(t, "alice") // offline storage or live delivery: either way, in order
		for _, want := range []string{"first", "second", "third"} {
			got := nextMessage(t, alice)
			if got.Body != want || got.From != "+15551234567@sms.example.test" {
				t.Fatalf("want %q, got %s", want, got.XML)
			}
		}
	})
}

// Messages survive a gateway restart on the same store.
func TestRestartKeepsStore(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		e.stop()
		// Twilio delivery reports for earlier messages still work after restart,
		// and replies are deduplicated across restarts.
		e.start(t)
		sid, status, err := e.twilio.SendInbound(ctx, e.public+"/hooks/sms/inbound", "+15551234567", aliceNum, "after restart")
		if err != nil || status != 200 {
			t.Fatalf("%d %v", status, err)
		}
		if got := nextMessage(t, alice); got.Body != "after restart" {
			t.Fatalf("got %s", got.XML)
		}
		e.stop()
		e.start(t)
		if st, err := e.twilio.PostForm(ctx, e.public+"/hooks/sms/inbound", e.twilio.InboundForm(sid, "+15551234567", aliceNum, "after restart")); err != nil || st != 200 {
			t.Fatalf("%d %v", st, err)
		}
		if _, status, err := e.twilio.SendInbound(ctx, e.public+"/hooks/sms/inbound", "+15551234567", aliceNum, "next"); err != nil || status != 200 {
			t.Fatalf("%d %v", status, err)
		}
		if got := nextMessage(t, alice); got.Body != "next" {
			t.Fatalf("replay after restart was delivered again: %s", got.XML)
		}
	})
}

// sendxmpp, a client nobody here wrote, reaches the SMS side.
func TestSendXMPPClient(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		if err := xmpptest.SendXMPP(ctx, e.srv, "alice", "pw", "+15551234567@sms.example.test", "from sendxmpp"); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[0]; m.To != "+15551234567" || m.From != aliceNum || strings.TrimSpace(m.Body) != "from sendxmpp" {
			t.Fatalf("Twilio got %+v", m)
		}
	})
}

// waitOfflineCount waits until ejabberd holds n offline messages for user.
func waitOfflineCount(t *testing.T, ej *xmpptest.Ejabberd, user string, n int) {
	t.Helper()
	ctx := testCtx(t)
	want := strconv.Itoa(n)
	for {
		out, err := ej.Ctl(ctx, "get_offline_count", user, ej.Domain)
		if err == nil && strings.TrimSpace(out) == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ejabberd never held %d offline messages for %s: %q, %v", n, user, out, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
