package component

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// costly is a fake transport with an hourly cap per user, and a provider
// whose messages can be listed (a transports.Reconciler).
type costly struct {
	transporttest.Transport
	limit int

	mu       sync.Mutex
	provider []transports.Outbound // what the "provider" holds, by index = id
}

func (c *costly) HourlyLimit() int { return c.limit }

func (c *costly) SentSince(_ context.Context, out transports.Outbound, _ time.Time) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for i, m := range c.provider {
		if m.To == out.To && m.Body == out.Body {
			ids = append(ids, "P"+string(rune('0'+i)))
		}
	}
	return ids, nil
}

func costlyGateway(t *testing.T, c *costly) (*Gateway, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c.TransportName = "sms"
	c.Accts = map[string]transports.Addr{"alice@example.test": "+15550001111"}
	g := New(Options{
		Transport: c, Identity: transports.Identity{Gateway: "sms", Name: "SMS"}, Store: store,
		Conn:    &conn.Conn{Domain: jid.MustParse("sms.example.test")},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed: func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	g.backoff = func(int) time.Duration { return time.Millisecond }
	return g, store
}

// Beyond the hourly cap a user gets policy-violation; a resent stanza is
// queued once and does not count twice.
func TestHourlyCap(t *testing.T) {
	g, store := costlyGateway(t, &costly{limit: 2})
	msg := func(id, body string) string {
		return `<message type="chat" id="` + id + `" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>` + body + `</body></message>`
	}
	steps := []struct{ in, out string }{
		{msg("q1", "one"), ""},
		{msg("q1", "one"), ""}, // resent after a reconnect
		{msg("q2", "two"), ""},
		{msg("q3", "three"), `<message type="error" id="q3" from="+15551234567@sms.example.test" to="alice@example.test/a"><error type="modify"><policy-violation ` + errNS + `></policy-violation><text ` + errNS + `>you may send at most 2 SMS messages an hour; try again later</text></error></message>`},
	}
	for i, st := range steps {
		if got := handle(t, g, st.in); got != st.out {
			t.Errorf("%d: got\n%s\nwant\n%s", i, got, st.out)
		}
	}
	jobs, _ := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if len(jobs) != 2 || g.Stats.Resends.Load() != 1 || g.Stats.OverQuota.Load() != 1 {
		t.Errorf("jobs %d, resends %d, over quota %d", len(jobs), g.Stats.Resends.Load(), g.Stats.OverQuota.Load())
	}
	// A restart keeps counting the last hour.
	g2 := New(g.o)
	if err := g2.seedQuota(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g2.quota.allows("alice@example.test", time.Now()) {
		t.Error("the cap was reset by a restart")
	}
}

// A send whose outcome is unknown (the provider took it, but the answer was
// lost) is found at the provider and not repeated.
func TestReconcileUnknownOutcome(t *testing.T) {
	c := &costly{limit: 100}
	c.SendFunc = func(out transports.Outbound) (string, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.provider = append(c.provider, out)
		if len(c.provider) == 1 { // taken, but the answer never came
			return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "request timed out"}
		}
		return "P" + string(rune('0'+len(c.provider)-1)), nil
	}
	g, store := costlyGateway(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go g.dispatchLoop(ctx)
	handle(t, g, `<message type="chat" id="r1" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>same</body></message>`)
	handle(t, g, `<message type="chat" id="r2" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>same</body></message>`)
	for ctx.Err() == nil {
		if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	n := len(c.provider)
	c.mu.Unlock()
	// r1 reached the provider once (P0, reconciled); r2, with the same
	// body, is a message of its own (P1), not mistaken for r1.
	if n != 2 || g.Stats.Reconciled.Load() != 1 {
		t.Errorf("provider holds %d messages, reconciled %d; want 2 and 1", n, g.Stats.Reconciled.Load())
	}
	for _, id := range []string{"P0", "P1"} {
		if known, _ := store.Jobs().KnownRemote(ctx, "sms", id); !known {
			t.Errorf("%s not recorded", id)
		}
	}
}
