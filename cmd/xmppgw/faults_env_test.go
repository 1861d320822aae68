//go:build integration

package main

import (
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
	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/logbuf"
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
	mt      *tguserfake.Server // with the mtproto nets' scenarios, else nil
	bin     string
	cfgPath string
	public  string

	mu   sync.Mutex
	proc *gwtest.Process
	logs *logbuf.Buffer
}

func startFaultEnv(t *testing.T, net *faultNet) *faultEnv {
	t.Helper()
	e := &faultEnv{t: t, bin: gatewayBinary(t), logs: &logbuf.Buffer{}}
	g := gwtest.Start(t, gwtest.Options{Users: map[string]string{"alice": "pw", "bob": "pw"}, TelegramUser: net != nil && net.mtproto})
	e.p, e.twilio, e.tg, e.mt, e.public, e.cfgPath = g.Server.(*xmpptest.Prosody), g.Twilio, g.Bot, g.MTProto, g.Public, g.ConfigPath
	chats := map[string]string{}
	for r := range faultRemotes {
		// Bob's chats exist on Telegram's side (someone started them).
		e.tg.AddChat(botfake.Chat{ID: tgOutChat(r), Type: "private", FirstName: "Out", LastName: strconv.Itoa(r)})
		chats[strconv.FormatInt(tgInChat(r), 10)] = "alice@example.test"
		chats[strconv.FormatInt(tgOutChat(r), 10)] = "bob@example.test"
	}
	g.Config.Log = &gwtest.Log{Level: "info"}
	sms := g.SMS()
	sms.Numbers["bob@example.test"] = bobNum
	sms.RateLimits = &gwtest.SMSRates{NumberPerSecond: 5000, TotalPerSecond: 5000, UserPerHour: gwtest.NoLimit}
	tg := g.Telegram()
	tg.Chats = chats
	tg.RateLimits = &gwtest.TelegramRates{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 5000}
	g.Write(t)
	e.startGateway()
	if net.setup != nil {
		net.setup(t, e)
	}
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
	// The output is a pipe: not subject to the file size limit.
	p, err := gwtest.Exec(e.bin, e.cfgPath, e.logs)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.proc = p
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, e.public+"/readyz"); err != nil {
		e.t.Fatalf("%v\n%s", err, tail(e.logs.String(), 4000))
	}
}

// stopGateway sends sig and waits for the process to end.
func (e *faultEnv) stopGateway(sig syscall.Signal) {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p != nil {
		p.Stop(sig, 30*time.Second)
	}
}

// fileLimit sets the soft RLIMIT_FSIZE of the gateway: "1" makes every write that
// grows a file fail as on a full disk; "unlimited" lifts it.
func (e *faultEnv) fileLimit(limit string) {
	e.t.Helper()
	e.mu.Lock()
	pid := e.proc.Pid()
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
