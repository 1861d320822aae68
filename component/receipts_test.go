package component

import (
	"context"
	"testing"

	"xmppgw/transports"
)

// Where the provider's acceptance is the receipt (Telegram), a retraction
// or a reaction that asks for one is acknowledged as a correction is,
// though the provider gives it no id of its own (transports.Transport.Send):
// under the job's id.
func TestRetractionReactionReceiptOnAccept(t *testing.T) {
	const m1 = `<message type="chat" id="m1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>helo</body></message>`
	cases := []struct {
		name, in, want string
	}{
		0: {name: "a retraction",
			in:   `<message type="chat" id="m2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>/me retracted a message</body><retract xmlns="urn:xmpp:message-retract:1" id="m1"/><request xmlns="urn:xmpp:receipts"/></message>`,
			want: `<message id="rcpt-job-2" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:receipts" id="m2"></received></message>`},
		1: {name: "a reaction, markable",
			in:   `<message type="chat" id="m2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><reactions xmlns="urn:xmpp:reactions:0" id="m1"><reaction>👍</reaction></reactions><markable xmlns="urn:xmpp:chat-markers:0"/></message>`,
			want: `<message id="rcpt-job-2" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:chat-markers:0" id="m2"></received></message>`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g, tr, store := testGateway(t)
			tr.SendFunc = func(out transports.Outbound) (string, error) {
				if out.Retracts != "" || out.ReactTo != "" {
					return "", nil // no id of its own
				}
				return "111:1", nil
			}
			g = New(Options{Transport: acceptingTransport{tr}, Identity: g.o.Identity, Store: store, Conn: g.o.Conn,
				Logger: g.log, Allowed: g.o.Allowed})
			done := make(chan struct{})
			go func() { defer close(done); g.dispatchLoop(ctx) }()
			defer func() { cancel(); <-done }()
			handle(t, g, m1)
			handle(t, g, tc.in)
			if _, err := tr.Wait(ctx, 2); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the job done with", func() bool {
				jobs, err := store.Jobs().Pending(ctx, "sms", 0, 10)
				return err == nil && len(jobs) == 0
			})
			if got := queued(t, store); got != tc.want {
				t.Errorf("%d: queued\n%s\nwant\n%s", i, got, tc.want)
			}
		})
	}
}
