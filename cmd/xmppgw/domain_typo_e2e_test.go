//go:build integration

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"xmppgw/internal/logbuf"
	"xmppgw/internal/xmpptest"
	"xmppgw/mapping"
)

// An operator's first start, on a real server, has a typo in the SMS
// transport's domain: the server refuses the component (the log names the
// likely causes), a text is taken all the same and stored from the typo.
// With the typo fixed the gateway starts, the text reaches alice from the
// fixed domain, and only then is that domain recorded as connected.
func TestDomainTypoOnFirstStart(t *testing.T) {
	causes := map[string]string{
		xmpptest.ServerProsody: `host-unknown (\"smss.example.test does not match any configured external components\"); likely causes: ` +
			`transports[0].domain (smss.example.test) is not declared as a component on the server`,
		xmpptest.ServerEjabberd: `not-authorized; likely causes: transports[0].secret is not the server's secret for smss.example.test`,
	}
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		e.stop()
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		// A store of its own: the first start.
		db := filepath.Join(t.TempDir(), "gw.db")
		e.cfg.Store.Path = db
		e.cfg.Transports[0].Domain = "smss.example.test"
		if err := e.cfg.Write(e.cfgPath); err != nil {
			t.Fatal(err)
		}
		var logb logbuf.Buffer
		_, stop := serveLogging(t, e.cfgPath, &logb)
		want := `err="component: handshake as smss.example.test: ` + causes[server]
		waitFor(t, ctx, "the handshake refused", func() bool { return strings.Contains(logb.String(), want) })
		if st, err := e.twilio.PostForm(ctx, e.public+"/hooks/sms/inbound", e.twilio.InboundForm("SM0123456789abcdef0123456789abcdef", "+15557654321", aliceNum, "hello")); err != nil || st != 200 {
			t.Fatalf("webhook: %d, %v", st, err)
		}
		stop()

		e.cfg.Transports[0].Domain = "sms.example.test"
		if err := e.cfg.Write(e.cfgPath); err != nil {
			t.Fatal(err)
		}
		e.logFile = filepath.Join(t.TempDir(), "gw.log")
		e.start(t)
		if m := nextMessage(t, alice); m.From != "+15557654321@sms.example.test" || m.Body != "hello" {
			t.Errorf("alice got %s", m.XML)
		}
		e.stop()
		store, err := mapping.OpenSQLite(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		kv := coreKV(store, "sms")
		if d, err := kv.Get(ctx, domainKey); err != nil || d != "sms.example.test" {
			t.Errorf("recorded connected domain %q, %v; want sms.example.test", d, err)
		}
		if _, in, err := store.Depth(ctx, "sms"); err != nil || in != 0 {
			t.Errorf("%d stanzas still waiting, %v", in, err)
		}
	})
}
