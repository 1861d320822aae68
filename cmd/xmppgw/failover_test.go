package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/pgtest"
	"xmppgw/internal/xmpptest"
	"xmppgw/transports/sms/twiliofake"
)

// failoverTakeover bounds how long the standby may take to become active
// after the active instance dies (the requirement).
const failoverTakeover = 10 * time.Second

// TestFailover runs two gateway processes on one PostgreSQL store. The
// active one takes messages while Twilio is down, so they stay queued; it is
// then killed with SIGKILL. The standby must take over within 10 s and send
// every queued message once, in order.
func TestFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := gatewayBinary(t)
	pg := pgtest.StartT(t)
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
		Domain:     "example.test",
		Components: map[string]string{"sms.example.test": "s3cret"},
		Users:      map[string]string{"alice": "pw"},
		Dir:        t.TempDir(),
	})
	tw := twiliofake.New(testSID, testToken)
	apiURL, err := tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tw.Close)
	var down atomic.Bool
	down.Store(true)
	tw.OnSend(func(twiliofake.Message) *twiliofake.APIError {
		if down.Load() {
			return &twiliofake.APIError{Status: 503, Code: 20503, Message: "Service Unavailable"}
		}
		return nil
	})

	a := startInstance(t, bin, "a", p.ComponentAddr, dsn, apiURL)
	if err := xmpptest.WaitReady(ctx, a.url+"/readyz", a.done); err != nil {
		t.Fatalf("instance a: %v\n%s", err, a.logs.String())
	}
	b := startInstance(t, bin, "b", p.ComponentAddr, dsn, apiURL)
	waitFor(t, ctx, "b to answer as a standby", func() bool {
		code, body := get(b.url + "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "standby")
	})
	if code, _ := get(b.url + "/hooks/sms/inbound"); code != http.StatusServiceUnavailable {
		t.Errorf("a standby's webhook answered %d, want 503", code)
	}
	t.Logf("a is active, b is a standby (readyz 503 standby)")

	const n = 20
	alice := xmpptest.DialT(t, p.C2SAddr, jid.MustParse("alice@example.test/test"), "pw")
	for i := range n {
		msg := fmt.Sprintf(`<message type="chat" id="f%d" to="+15557654321@sms.example.test"><body>page %02d</body></message>`, i, i)
		if err := alice.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "a to queue the messages", func() bool {
		_, body := get(a.url + "/metrics")
		return strings.Contains(body, fmt.Sprintf(`xmppgw_queue_depth{queue="out",transport="sms"} %d`, n))
	})
	t.Logf("a holds %d queued messages (Twilio answers 503); killing a with SIGKILL", n)

	a.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-a.exited
	waitFor(t, ctx, "b to become ready", func() bool {
		code, _ := get(b.url + "/readyz")
		return code == http.StatusOK
	})
	takeover := time.Since(killed)
	t.Logf("b ready %v after a was killed", takeover.Round(time.Millisecond))
	if takeover > failoverTakeover {
		t.Errorf("takeover took %v, want at most %v", takeover, failoverTakeover)
	}

	down.Store(false)
	msgs, err := tw.Wait(ctx, n)
	if err != nil {
		t.Fatalf("sent after takeover: %v (%d messages)", err, len(tw.Messages()))
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would show up by now
	msgs = tw.Messages()
	if len(msgs) != n {
		t.Errorf("Twilio got %d messages, want %d (none twice)", len(msgs), n)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("page %02d", i); i < n && m.Body != want {
			t.Errorf("message %d = %q, want %q (in order)", i, m.Body, want)
		}
	}
	t.Logf("b sent %d/%d queued messages, each once, in order", len(msgs), n)
	for _, l := range strings.Split(b.logs.String(), "\n") {
		if strings.Contains(l, "standby") || strings.Contains(l, "took over") {
			t.Logf("b: %s", l)
		}
	}
}

// instance is one gateway process of a failover pair.
type instance struct {
	cmd    *exec.Cmd
	done   chan error    // the exit status, for xmpptest.WaitReady
	exited chan struct{} // closed when the process has ended
	url    string
	logs   *syncBuffer
}

func startInstance(t *testing.T, bin, name, component, dsn, apiURL string) *instance {
	t.Helper()
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`xmpp:
  server: %s
store:
  driver: postgres
  dsn: %s
http:
  listen: 127.0.0.1:%d
  public_url: %s
access:
  allow: [example.test]
transports:
  - name: sms
    type: twilio
    domain: sms.example.test
    secret: s3cret
    settings:
      account_sid: %s
      auth_token: %s
      api_url: %s
      numbers:
        alice@example.test: "%s"
      rate_limits: {number_per_second: 1000, user_per_hour: 0}
`, component, dsn, port, url, testSID, testToken, apiURL, aliceNum)
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: exec.Command(bin, "run", "-config", path), done: make(chan error, 1),
		exited: make(chan struct{}), url: url, logs: &syncBuffer{}}
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { err := in.cmd.Wait(); close(in.exited); in.done <- err }()
	t.Cleanup(func() {
		in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(20 * time.Second):
			in.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("instance %s log:\n%s", name, tail(in.logs.String(), 4000))
		}
	})
	return in
}

func get(url string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// waitFor polls ok every 50 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
