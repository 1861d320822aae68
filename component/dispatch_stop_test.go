package component

import (
	"context"
	"sync"
	"testing"
	"time"

	"xmppgw/transports"
)

// Once the gateway is stopped (its lead lost, or shutting down), a job
// whose lane waits for a request slot is not sent: it stays queued for the
// next leader.
func TestNoSendAfterStop(t *testing.T) {
	g, tr, _ := testGateway(t)
	g.sem = make(chan struct{}, 1) // one request at a time
	release, inA := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	stopped := false
	var late []string
	tr.SendFunc = func(out transports.Outbound) (string, error) {
		mu.Lock()
		if stopped {
			late = append(late, out.Body)
		}
		mu.Unlock()
		if out.Body == "a" {
			close(inA)
			<-release
		}
		return "id-" + out.Body, nil
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.dispatchLoop(ctx) }()
	handle(t, g, `<message type="chat" id="a" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>a</body></message>`)
	<-inA
	handle(t, g, `<message type="chat" id="b" from="alice@example.test/a" to="+15557654321@sms.example.test"><body>b</body></message>`)
	time.Sleep(100 * time.Millisecond) // b's lane waits for the slot a holds
	mu.Lock()
	stopped = true
	mu.Unlock()
	stop()
	close(release)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(late) > 0 {
		t.Errorf("sent after the gateway stopped: %v", late)
	}
}
