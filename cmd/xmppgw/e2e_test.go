package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/configs"
	"xmppgw/internal/xmpptest"
	"xmppgw/transports/sms/twiliofake"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	aliceNum  = "+15550001111"
)

// env is one running system: Prosody, the Twilio fake and the gateway.
type env struct {
	prosody *xmpptest.Prosody
	twilio  *twiliofake.Fake
	public  string // the gateway's public_url (its HTTP listener here)
	cfgPath string
	stop    func() // stops the gateway and waits for it
}

// startEnv starts Prosody with alice, bob and mallory, the Twilio fake, and
// the gateway (in this process) on a store in dir.
func startEnv(t *testing.T) *env {
	t.Helper()
	p := xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
		Domain:     "example.test",
		Components: map[string]string{"sms.example.test": "s3cret"},
		Users:      map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"},
		Dir:        t.TempDir(),
	})
	fake := twiliofake.New(testSID, testToken)
	apiURL, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{prosody: p, twilio: fake, public: fmt.Sprintf("http://127.0.0.1:%d", port)}
	e.cfgPath = filepath.Join(t.TempDir(), "xmppgw.yaml")
	cfg := fmt.Sprintf(`xmpp:
  server: %s
store:
  path: %s
http:
  listen: 127.0.0.1:%d
  public_url: %s
access:
  allow: [alice@example.test, bob@example.test]
log:
  level: debug
transports:
  - name: sms
    type: twilio
    domain: sms.example.test
    secret: ${TEST_COMPONENT_SECRET}
    settings:
      account_sid: %s
      auth_token: %s
      api_url: %s
      numbers:
        alice@example.test: "%s"
`, p.ComponentAddr, filepath.Join(t.TempDir(), "gw.db"), port, e.public, testSID, testToken, apiURL, aliceNum)
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_COMPONENT_SECRET", "s3cret")
	e.start(t)
	return e
}

// start runs the gateway on e's config until e.stop.
func (e *env) start(t *testing.T) {
	t.Helper()
	c, err := configs.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- serve(ctx, c, log, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("gateway: %v", err)
	}
	e.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			e.stop()
		}
	})
	e.waitReady(t)
}

// waitReady polls /readyz until the component is connected.
func (e *env) waitReady(t *testing.T) {
	t.Helper()
	ctx := testCtx(t)
	for {
		resp, err := http.Get(e.public + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gateway never became ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (e *env) login(t *testing.T, user string) *xmpptest.Client {
	t.Helper()
	return xmpptest.DialT(t, e.prosody.C2SAddr, jid.MustParse(user+"@example.test/test"), "pw")
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testWriter sends the gateway's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// nextMessage returns alice's next message, failing the test on timeout.
func nextMessage(t *testing.T, c *xmpptest.Client) xmpptest.Stanza {
	t.Helper()
	s, err := c.NextMessage(testCtx(t))
	if err != nil {
		t.Fatalf("no message for %s: %v", c.JID, err)
	}
	return s
}
