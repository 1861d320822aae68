package component

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xmppgw/transports"
)

// Messages to one contact keep their order; temporary failures are retried;
// permanent ones become an error to the sender.
func TestDispatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, tr, store := testGateway(t)
	g.backoff = func(int) time.Duration { return time.Millisecond }
	failures := 0
	tr.SendFunc = func(out transports.Outbound) (string, error) {
		switch {
		case out.Body == "m1" && failures < 3: // 429 three times, then accepted
			failures++
			return "", &transports.Error{Kind: transports.KindRateLimited, Provider: "fake", Code: "20429", Message: "Too Many Requests"}
		case out.To == "+15557777777":
			return "", &transports.Error{Kind: transports.KindInvalidAddress, Provider: "fake", Code: "21211", Message: "invalid To"}
		}
		return "id-" + out.Body, nil
	}
	go g.dispatchLoop(ctx)
	for i := range 5 {
		handle(t, g, fmt.Sprintf(`<message type="chat" id="m%d" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>m%d</body></message>`, i, i))
	}
	handle(t, g, `<message type="chat" id="bad" from="alice@example.test/a" to="+15557777777@sms.example.test"><body>x</body></message>`)
	sent, err := tr.Wait(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range sent {
		if o.Body != fmt.Sprintf("m%d", i) {
			t.Errorf("order: sent[%d] = %q", i, o.Body)
		}
	}
	if failures != 3 || g.Stats.Retries.Load() != 3 {
		t.Errorf("failures %d, retries %d", failures, g.Stats.Retries.Load())
	}
	want := `<message type="error" id="bad" from="+15557777777@sms.example.test" to="alice@example.test/a"><error type="modify" by="sms.example.test"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>fake error 21211: invalid To</text></error></message>`
	for queued(t, store) == "" && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if got := queued(t, store); got != want {
		t.Errorf("error stanza\n%s\nwant\n%s", got, want)
	}
	for ctx.Err() == nil {
		if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}
