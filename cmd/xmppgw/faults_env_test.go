//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// The fault suite runs the gateway as a separate process, so that it can be
// killed with SIGKILL and have its file size limit lowered (a full disk).

const (
	bobNum = "+15550002222"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// gatewayBinary builds this command once per test run.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xmppgw-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "xmppgw")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// faultEnv is Prosody, the Twilio fake and a gateway process on one store.
type faultEnv struct {
	t       *testing.T
	p       *xmpptest.Prosody
	twilio  *twiliofake.Fake
	tg      *botfake.Fake
	bin     string
	cfgPath string
	public  string

	mu   sync.Mutex
	proc *exec.Cmd
	done chan error
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := &faultEnv{t: t, bin: gatewayBinary(t), logs: &syncBuffer{}}
	e.p = xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
		Domain:     "example.test",
		Components: map[string]string{"sms.example.test": "s3cret-s3cret-s3cret", "telegram.example.test": "s3cret-s3cret-s3cret"},
		Users:      map[string]string{"alice": "pw", "bob": "pw"},
		Dir:        t.TempDir(),
	})
	e.twilio = twiliofake.New(testSID, testToken)
	apiURL, err := e.twilio.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.twilio.Close)
	e.tg = botfake.New(tgToken)
	tgURL := e.tg.Start()
	t.Cleanup(e.tg.Close)
	chats := ""
	for r := range faultRemotes {
		// Bob's chats exist on Telegram's side (someone started them).
		e.tg.AddChat(botfake.Chat{ID: tgOutChat(r), Type: "private", FirstName: "Out", LastName: strconv.Itoa(r)})
		chats += fmt.Sprintf("        \"%d\": alice@example.test\n        \"%d\": bob@example.test\n", tgInChat(r), tgOutChat(r))
	}
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e.public = fmt.Sprintf("http://127.0.0.1:%d", port)
	e.cfgPath = filepath.Join(t.TempDir(), "xmppgw.yaml")
	cfg := fmt.Sprintf(`xmpp:
  server: %s
store:
  path: %s
http:
  listen: 127.0.0.1:%d
  public_url: %s
access:
  allow: [example.test]
log:
  level: info
transports:
  - name: sms
    type: twilio
    domain: sms.example.test
    secret: s3cret-s3cret-s3cret
    settings:
      account_sid: %s
      auth_token: %s
      api_url: %s
      numbers:
        alice@example.test: "%s"
        bob@example.test: "%s"
      rate_limits: {number_per_second: 5000, total_per_second: 5000, user_per_hour: 0}
  - name: telegram
    type: telegram
    domain: telegram.example.test
    secret: s3cret-s3cret-s3cret
    settings:
      token: %s
      api_url: %s
      rate_limits: {chat_per_second: 1000, group_per_minute: 60000, total_per_second: 5000}
      chats:
%s`, e.p.ComponentAddr, filepath.Join(t.TempDir(), "gw.db"), port, e.public, testSID, testToken, apiURL, aliceNum, bobNum,
		tgToken, tgURL, chats)
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.startGateway()
	t.Cleanup(func() {
		e.stopGateway(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("gateway log:\n%s", tail(e.logs.String(), 6000))
		}
	})
	return e
}

// startGateway starts the gateway process and waits until it is ready.
func (e *faultEnv) startGateway() {
	e.t.Helper()
	cmd := exec.Command(e.bin, "run", "-config", e.cfgPath)
	cmd.Stdout, cmd.Stderr = e.logs, e.logs // a pipe: not subject to the file size limit
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	e.mu.Lock()
	e.proc, e.done = cmd, done
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := xmpptest.WaitReady(ctx, e.public+"/readyz", done); err != nil {
		e.t.Fatalf("%v\n%s", err, tail(e.logs.String(), 4000))
	}
}

// stopGateway sends sig and waits for the process to end.
func (e *faultEnv) stopGateway(sig syscall.Signal) {
	e.mu.Lock()
	cmd, done := e.proc, e.done
	e.proc = nil
	e.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// fileLimit sets the soft RLIMIT_FSIZE of the gateway: "1" makes every write that
// grows a file fail as on a full disk; "unlimited" lifts it.
func (e *faultEnv) fileLimit(limit string) {
	e.t.Helper()
	e.mu.Lock()
	pid := e.proc.Process.Pid
	e.mu.Unlock()
	out, err := exec.Command("prlimit", "--pid", strconv.Itoa(pid), "--fsize="+limit+":").CombinedOutput()
	if err != nil {
		e.t.Fatalf("prlimit: %v: %s", err, out)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
