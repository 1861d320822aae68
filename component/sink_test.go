package component

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"xmppgw/component/contacts"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

func TestDeliver(t *testing.T) {
	ctx := context.Background()
	in := transports.Inbound{Account: "+15550001111", From: "+15551234567", ID: "SM1", Body: "ack <ok>"}

	// 0: a shared number nobody has written from goes to every owner.
	g, _, store := testGateway(t)
	if err := g.Deliver(ctx, in); err != nil {
		t.Fatal(err)
	}
	want := `<message type="chat" id="SM1-0" from="+15551234567@sms.example.test" to="alice@example.test"><body>ack &lt;ok&gt;</body><origin-id xmlns="urn:xmpp:sid:0" id="SM1-0"></origin-id></message>` +
		`<message type="chat" id="SM1-1" from="+15551234567@sms.example.test" to="carol@example.test"><body>ack &lt;ok&gt;</body><origin-id xmlns="urn:xmpp:sid:0" id="SM1-1"></origin-id></message>`
	if got := queued(t, store); got != want {
		t.Errorf("0: queued\n%s\nwant\n%s", got, want)
	}
	// 1: the same provider id again is a duplicate: nothing more is queued.
	if err := g.Deliver(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got := queued(t, store); got != want {
		t.Errorf("1: replay queued\n%s", got)
	}
	if g.Stats.Duplicates.Load() != 1 {
		t.Errorf("1: duplicates %d", g.Stats.Duplicates.Load())
	}

	// 2: after carol wrote to the phone, its replies go to carol only.
	g, _, store = testGateway(t)
	handle(t, g, `<message type="chat" id="c1" from="carol@example.test/pc" to="+15551234567@sms.example.test"><body>hi</body></message>`)
	if err := g.Deliver(ctx, in); err != nil {
		t.Fatal(err)
	}
	want = `<message type="chat" id="SM1" from="+15551234567@sms.example.test" to="carol@example.test"><body>ack &lt;ok&gt;</body><origin-id xmlns="urn:xmpp:sid:0" id="SM1"></origin-id></message>`
	if got := queued(t, store); got != want {
		t.Errorf("2: queued\n%s\nwant\n%s", got, want)
	}

	// 3: a number nobody owns is acknowledged, counted, and queues nothing.
	g, _, store = testGateway(t)
	g.o.Metrics = NewMetrics(prometheus.NewRegistry())
	if err := g.Deliver(ctx, transports.Inbound{Account: "+15559999999", From: "+15551234567", ID: "SM2", Body: "x"}); !errors.Is(err, transports.ErrNoRecipient) {
		t.Fatalf("got %v, want ErrNoRecipient", err)
	}
	if got := queued(t, store); got != "" || g.Stats.Unowned.Load() != 1 {
		t.Errorf("3: queued %q, unowned %d", got, g.Stats.Unowned.Load())
	}
	var m dto.Metric
	if err := g.o.Metrics.Errors.WithLabelValues(g.name, "no_recipient").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Errorf(`3: xmppgw_errors_total{kind="no_recipient"} = %v (%v), want 1`, m.GetCounter().GetValue(), err)
	}

	// 4: a number the address book names has its name as the XEP-0172
	// nick, escaped.
	g, _, store = testGateway(t)
	g.o.Names = contacts.New(map[string]string{"+15551234567": "Dana <on call>"}, nil, g.log)
	handle(t, g, `<message type="chat" id="c1" from="carol@example.test/pc" to="+15551234567@sms.example.test"><body>hi</body></message>`)
	if err := g.Deliver(ctx, in); err != nil {
		t.Fatal(err)
	}
	want = `<message type="chat" id="SM1" from="+15551234567@sms.example.test" to="carol@example.test"><body>ack &lt;ok&gt;</body><nick xmlns="http://jabber.org/protocol/nick">Dana &lt;on call&gt;</nick><origin-id xmlns="urn:xmpp:sid:0" id="SM1"></origin-id></message>`
	if got := queued(t, store); got != want {
		t.Errorf("4: queued\n%s\nwant\n%s", got, want)
	}
}

func TestReport(t *testing.T) {
	ctx := context.Background()
	g, tr, store := testGateway(t)
	ctx2, cancel := context.WithCancel(ctx)
	defer cancel()
	go g.dispatchLoop(ctx2)
	handle(t, g, `<message type="chat" id="r1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>a</body><request xmlns="urn:xmpp:receipts"/></message>`)
	handle(t, g, `<message type="chat" id="r2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>b</body></message>`)
	handle(t, g, `<message type="chat" id="r3" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>c</body><request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/></message>`)
	handle(t, g, `<message type="chat" id="r4" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>d</body><markable xmlns="urn:xmpp:chat-markers:0"/></message>`)
	if _, err := tr.Wait(ctx, 4); err != nil {
		t.Fatal(err)
	}
	waitSent := func(id string) {
		for {
			if _, ok, _ := store.Jobs().LookupSent(ctx, "sms", mapping.Report{RemoteID: id, State: "sent"}); ok {
				return
			}
			sleep(ctx, 0)
		}
	}
	for _, id := range []string{"R1", "R2", "R3", "R4"} {
		waitSent(id)
	}

	reports := []struct {
		st   transports.Status
		want string
	}{
		0: {transports.Status{RemoteID: "R1", State: transports.StateSent}, ``},
		1: {transports.Status{RemoteID: "R1", State: transports.StateDelivered},
			`<message id="rcpt-R1" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:receipts" id="r1"></received></message>`},
		2: {transports.Status{RemoteID: "R1", State: transports.StateDelivered}, ``}, // replayed callback
		3: {transports.Status{RemoteID: "R2", State: transports.StateDelivered}, ``}, // no receipt asked
		4: {transports.Status{RemoteID: "R2", State: transports.StateFailed, Code: "30003", Text: "Unreachable destination handset"},
			`<message type="error" id="r2" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="wait" by="sms.example.test"><recipient-unavailable ` + errNS + `></recipient-unavailable><text ` + errNS + `>SMS error 30003: Unreachable destination handset</text></error></message>`},
		5: {transports.Status{RemoteID: "unknown", State: transports.StateDelivered}, ``},
		6: {transports.Status{RemoteID: "R3", State: transports.StateDelivered}, // XEP-0184 and XEP-0333 asked
			`<message id="rcpt-R3" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:receipts" id="r3"></received><received xmlns="urn:xmpp:chat-markers:0" id="r3"></received></message>`},
		7: {transports.Status{RemoteID: "R4", State: transports.StateDelivered}, // only markable
			`<message id="rcpt-R4" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:chat-markers:0" id="r4"></received></message>`},
	}
	for i, r := range reports {
		if err := g.Report(ctx, r.st); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got := queued(t, store)
		if got != r.want {
			t.Errorf("%d: queued\n%s\nwant\n%s", i, got, r.want)
		}
		if q, _ := store.ToXMPP().Pending(ctx, "sms", 10); len(q) > 0 {
			store.ToXMPP().Written(ctx, "sms", q[len(q)-1].ID)
		}
	}
}

// acceptingTransport stands for a network without delivery reports.
type acceptingTransport struct{ *transporttest.Transport }

func (acceptingTransport) ReceiptOnAccept() {}

// TestReceiptOnAccept: where the provider never reports delivery, its
// acceptance of the message is the receipt.
func TestReceiptOnAccept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, tr, store := testGateway(t)
	g = New(Options{Transport: acceptingTransport{tr}, Identity: g.o.Identity, Store: store, Conn: g.o.Conn,
		Logger: g.log, Allowed: g.o.Allowed})
	go g.dispatchLoop(ctx)
	handle(t, g, `<message type="chat" id="a1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>a</body><request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/></message>`)
	handle(t, g, `<message type="chat" id="a2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>b</body></message>`)
	if _, err := tr.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	want := `<message id="rcpt-R1" from="+15551234567@sms.example.test" to="alice@example.test/phone"><received xmlns="urn:xmpp:receipts" id="a1"></received><received xmlns="urn:xmpp:chat-markers:0" id="a1"></received></message>`
	for {
		q, _ := store.ToXMPP().Pending(ctx, "sms", 10)
		if len(q) > 0 {
			if got := string(q[0].Stanza); got != want || len(q) != 1 {
				t.Fatalf("queued %d stanzas, first\n%s\nwant only\n%s", len(q), got, want)
			}
			return
		}
		if !sleep(ctx, 10*time.Millisecond) {
			t.Fatal("no receipt queued")
		}
	}
}

// Where the provider's acceptance is the receipt, a correction accepted as
// the message it edits (Telegram edits in place) is acknowledged too.
func TestCorrectionReceiptOnAccept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, tr, store := testGateway(t)
	tr.SendFunc = func(out transports.Outbound) (string, error) {
		if out.Replaces != "" {
			return out.Replaces, nil // edited in place
		}
		return "111:1", nil
	}
	g = New(Options{Transport: acceptingTransport{tr}, Identity: g.o.Identity, Store: store, Conn: g.o.Conn,
		Logger: g.log, Allowed: g.o.Allowed})
	done := make(chan struct{})
	go func() { defer close(done); g.dispatchLoop(ctx) }()
	defer func() { cancel(); <-done }()
	handle(t, g, `<message type="chat" id="m1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>helo</body><request xmlns="urn:xmpp:receipts"/></message>`)
	eventually(t, "the receipt for m1", func() bool { return strings.Contains(queued(t, store), `<received xmlns="urn:xmpp:receipts" id="m1">`) })
	handle(t, g, `<message type="chat" id="m2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>hello</body><replace xmlns="urn:xmpp:message-correct:0" id="m1"/><request xmlns="urn:xmpp:receipts"/></message>`)
	eventually(t, "the receipt for the correction m2", func() bool {
		return strings.Contains(queued(t, store), `<received xmlns="urn:xmpp:receipts" id="m2">`)
	})
}

// A delivery report that came before its send was recorded, and that a
// crash kept from being passed on once it was, is passed on at the next
// start, once.
func TestEarlyReportLeftAtStart(t *testing.T) {
	ctx := context.Background()
	g, _, store := testGateway(t)
	r := mapping.Report{RemoteID: "SM9", State: "failed", Code: "30003", Text: "Unreachable destination handset"}
	if _, found, err := store.Jobs().LookupSent(ctx, "sms", r); err != nil || found {
		t.Fatalf("found %v, %v", found, err)
	}
	j := mapping.Job{Transport: "sms", Sender: "alice@example.test/phone", Account: "+15550001111", Remote: "+15551234567", StanzaID: "m9", Body: "hi"}
	var err error
	if j.ID, _, err = store.Jobs().Enqueue(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Jobs().Sent(ctx, j, "SM9"); err != nil { // then the process dies
		t.Fatal(err)
	}
	for range 2 { // two starts
		if err := g.reportEarlyLeft(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := `<message type="error" id="m9" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="wait" by="sms.example.test"><recipient-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></recipient-unavailable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">SMS error 30003: Unreachable destination handset</text></error></message>`
	if got := queued(t, store); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
}
