package telegramuser

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// blockedIn reports whether a goroutine waits for a mutex in fn (a
// function name as stacks write it).
func blockedIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[sync.Mutex.Lock") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// A session started (a sign-in's answer, run by the core on a goroutine of
// its own) while Run stops is refused, or is one Run waits for: none
// outlives Run. Here start is held at the accounts' lock while Run's
// context ends and Run reaches the lock too.
func TestStartWhileRunStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32)}
	if probs := s.Validate(); len(probs) > 0 {
		t.Fatal(probs)
	}
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", State: &transporttest.KV{}}, s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, &transporttest.Sink{}) }()
	waitFor(t, ctx, "Run never started", func() bool { return tr.run.Load() != nil })

	tr.mu.Lock()
	type started struct {
		a   *account
		err error
	}
	res := make(chan started, 1)
	go func() {
		a, err := tr.start(testUser, false)
		res <- started{a, err}
	}()
	waitFor(t, ctx, "start never reached the lock", func() bool { return blockedIn("(*Transport).start(") })
	stop()
	waitFor(t, ctx, "Run never reached the lock", func() bool { return blockedIn("(*Transport).Run(") })
	tr.mu.Unlock()

	r := <-res
	<-done
	if r.err == nil {
		select {
		case <-r.a.done:
			t.Error("a session was started after Run's context ended")
		default:
			t.Error("a session was started after Run's context ended, and outlived Run")
		}
	}
}
