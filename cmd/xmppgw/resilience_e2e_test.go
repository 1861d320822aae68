package main

import (
	"strings"
	"testing"

	"xmppgw/internal/xmpptest"
)

// While Prosody is down, SMS replies are acknowledged and stored; after it is
// back, the component reconnects by itself and delivers them in order.
func TestReconnectDeliversQueued(t *testing.T) {
	e := startEnv(t)
	ctx := testCtx(t)
	if err := e.prosody.Stop(); err != nil {
		t.Fatal(err)
	}
	inbound := e.public + "/hooks/sms/inbound"
	for _, body := range []string{"first", "second", "third"} {
		if _, status, err := e.twilio.SendInbound(ctx, inbound, "+15551234567", aliceNum, body); err != nil || status != 200 {
			t.Fatalf("webhook while XMPP is down: %d, %v", status, err)
		}
	}
	if err := e.prosody.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	e.waitReady(t)
	alice := e.login(t, "alice") // offline storage or live delivery: either way, in order
	for _, want := range []string{"first", "second", "third"} {
		got := nextMessage(t, alice)
		if got.Body != want || got.From != "+15551234567@sms.example.test" {
			t.Fatalf("want %q, got %s", want, got.XML)
		}
	}
}

// Messages survive a gateway restart on the same store.
func TestRestartKeepsStore(t *testing.T) {
	e := startEnv(t)
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
}

// sendxmpp, a client nobody here wrote, reaches the SMS side.
func TestSendXMPPClient(t *testing.T) {
	e := startEnv(t)
	ctx := testCtx(t)
	if err := xmpptest.SendXMPP(ctx, e.prosody, "alice", "pw", "+15551234567@sms.example.test", "from sendxmpp"); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.twilio.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := msgs[0]; m.To != "+15551234567" || m.From != aliceNum || strings.TrimSpace(m.Body) != "from sendxmpp" {
		t.Fatalf("Twilio got %+v", m)
	}
}
