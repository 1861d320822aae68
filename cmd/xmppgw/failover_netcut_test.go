//go:build integration

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/gwtest"
	"xmppgw/internal/pgtest"
	"xmppgw/internal/xmpptest"
)

// TestFailoverNetworkCut cuts the network between the active instance and
// PostgreSQL (no socket is closed, as in a partition) while alice writes:
// the active instance logs the loss of its lock and exits at once, before
// the standby (which waits for the lock session to expire) is ready, and
// each of alice's messages is sent once or refused, none lost.
func TestFailoverNetworkCut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := gatewayBinary(t)
	dsn, err := pgtest.StartT(t).CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := pgtest.NewProxy(t, dsn)
	g := gwtest.Start(t, gwtest.Options{Users: map[string]string{"alice": "pw"}})
	p, tw := g.Server.(*xmpptest.Prosody), g.Twilio
	a := startInstance(t, bin, "a", g, cut.DSN())
	if err := a.WaitReady(ctx, a.url+"/readyz"); err != nil {
		t.Fatalf("instance a: %v", err)
	}
	b := startInstance(t, bin, "b", g, dsn)
	waitFor(t, ctx, "b to answer as a standby", func() bool {
		code, body := get(b.url + "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "standby")
	})
	alice := xmpptest.DialT(t, p.C2SAddr, jid.MustParse("alice@example.test/test"), "pw")
	send := func(id string) {
		msg := fmt.Sprintf(`<message type="chat" id="%s" to="+15557654321@sms.example.test"><body>%s</body></message>`, id, id)
		if err := alice.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	send("before")
	if _, err := tw.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}

	cut.Cut()
	cutAt := time.Now()
	t.Logf("cut a's network to PostgreSQL")
	const n = 8
	for i := range n {
		send(fmt.Sprintf("cut%d", i))
		time.Sleep(250 * time.Millisecond) // alice keeps writing through the loss
	}
	waitFor(t, ctx, "b to become ready", func() bool { code, _ := get(b.url + "/readyz"); return code == http.StatusOK })
	t.Logf("b ready %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	select {
	case <-a.Exited():
	default:
		t.Errorf("a, cut off, still runs when b is active")
		<-a.Exited()
		t.Logf("a exited %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	}
	if code := a.ExitCode(); code != exitFailure || !strings.Contains(a.logs.String(), "lost the store's active lock: stopping at once") {
		t.Errorf("a exited with %d; want %d, having logged the loss", code, exitFailure)
	}

	// Each message is sent (by a before the loss, or by b) or refused.
	sent := func(id string) int {
		c := 0
		for _, m := range tw.Messages() {
			if m.Body == id {
				c++
			}
		}
		return c
	}
	refused := map[string]string{}
	for i := 0; i < n; {
		if id := fmt.Sprintf("cut%d", i); sent(id) > 0 || refused[id] != "" {
			i++
			continue
		}
		rctx, rcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		st, err := alice.NextMessage(rctx)
		rcancel()
		if ctx.Err() != nil {
			t.Fatalf("cut%d neither sent nor refused", i)
		}
		if err == nil && st.Type == "error" {
			refused[st.ID] = st.ErrorType + "/" + st.ErrorCondition
		}
	}
	// b sends alice's messages in order: once "after" is sent, so is
	// anything of hers it would send twice.
	send("after")
	waitFor(t, ctx, "b to send alice's next message", func() bool { return sent("after") == 1 })
	for i := range n {
		id := fmt.Sprintf("cut%d", i)
		if c, r := sent(id), refused[id]; c+min(len(r), 1) != 1 {
			t.Errorf("%s: sent %d times, refused: %q (want sent once or refused)", id, c, r)
		} else {
			t.Logf("%s: sent %d, refused %q", id, c, r)
		}
	}
}
