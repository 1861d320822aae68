package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/alerts"
	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// alertGateways returns the SMS gateway of testGateway (alice and carol
// share +15550001111) and a linked gateway tg.example.test on the same
// store, whose contacts are E.164 numbers too and none is linked.
func alertGateways(t *testing.T) (sms, tg *Gateway, smsT *transporttest.Transport, tgT *transporttest.Linked, store *mapping.Store) {
	t.Helper()
	sms, smsT, store = testGateway(t)
	tgT = &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}
	tg = New(Options{
		Transport: tgT,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return sms, tg, smsT, tgT, store
}

func TestAlertQueueResolve(t *testing.T) {
	sms, tg, _, _, _ := alertGateways(t)
	q, err := NewAlertQueue("alice@example.test", []*Gateway{tg, sms})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		to   string
		want alerts.Destination
		err  string
	}{
		0: {to: "+15551234567@sms.example.test", want: alerts.Destination{JID: "+15551234567@sms.example.test", Kind: alerts.SMS}},
		1: {to: " +15551234567 ", want: alerts.Destination{JID: "+15551234567@sms.example.test", Kind: alerts.SMS}},
		2: {to: "+15557654321@TG.example.test", want: alerts.Destination{JID: "+15557654321@tg.example.test", Kind: alerts.Chat}},
		3: {to: "Bob@Example.test", want: alerts.Destination{JID: "bob@example.test", Kind: alerts.XMPP}},
		4: {to: "bob@example.test/pager", err: `"bob@example.test/pager": write a bare JID (user@domain), without a /resource: answers come from it, whatever the client`},
		5: {to: "sms.example.test", err: `"sms.example.test" is the gateway itself; write ADDRESS@sms.example.test`},
		6: {to: "12@sms.example.test", err: `fake: "12" is not an E.164 number`},
		7: {to: "example.test", err: `"example.test" is not a user's JID (user@domain)`},
		8: {to: "@@", err: `"@@" is not a JID`},
		9: {to: "+1", err: `fake: "+1" is not an E.164 number`},
	}
	for i, tt := range tests {
		got, err := q.Resolve(tt.to)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%d: Resolve(%q) error %v, want %q", i, tt.to, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%d: Resolve(%q) = %+v, %v; want %+v", i, tt.to, got, err, tt.want)
		}
	}

	// Contacts need an alerts user, and on an SMS transport, its number.
	q, _ = NewAlertQueue("bob@example.test", []*Gateway{sms, tg})
	if _, err := q.Resolve("+15551234567@sms.example.test"); err == nil || err.Error() !=
		`+15551234567@sms.example.test: alerts are sent as bob@example.test, who has no SMS account on transport "sms" (add it to that transport's numbers)` {
		t.Errorf("no number: %v", err)
	}
	if _, err := q.Resolve("+15557654321@tg.example.test"); err != nil {
		t.Errorf("a chat needs no link to the alerts user: %v", err)
	}
	q, _ = NewAlertQueue("", []*Gateway{tg})
	if _, err := q.Resolve("+15551234567"); err == nil || err.Error() != `"+15551234567": a phone number needs an SMS transport, and there is none` {
		t.Errorf("no SMS transport: %v", err)
	}
	if _, err := q.Resolve("+15557654321@tg.example.test"); err == nil || err.Error() !=
		`+15557654321@tg.example.test: alerts to contacts of transport "tg" are sent as alerts.from, which is not set` {
		t.Errorf("no alerts user: %v", err)
	}
	if _, err := q.Resolve("ops@example.test"); err != nil {
		t.Errorf("users need no alerts user: %v", err)
	}
	for _, from := range []string{"example.test", "a@b/c", "@"} {
		if _, err := NewAlertQueue(from, []*Gateway{sms}); err == nil {
			t.Errorf("NewAlertQueue(%q) accepted", from)
		}
	}
	if _, err := NewAlertQueue("", nil); err == nil {
		t.Error("NewAlertQueue without gateways accepted")
	}
}

func TestAlertQueueContacts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sms, tg, smsT, tgT, store := alertGateways(t)
	go sms.dispatchLoop(ctx)
	go tg.dispatchLoop(ctx)
	q, _ := NewAlertQueue("alice@example.test", []*Gateway{sms, tg})
	queue := func(to, id, text string) bool {
		t.Helper()
		d, err := q.Resolve(to)
		if err != nil {
			t.Fatal(err)
		}
		dup, err := q.Queue(ctx, d, id, text)
		if err != nil {
			t.Fatal(err)
		}
		return dup
	}
	if queue("+15551234567@sms.example.test", "alert-1", "[FIRING:1] Down") {
		t.Error("first alert is a duplicate")
	}
	if !queue("+15551234567@sms.example.test", "alert-1", "[FIRING:1] Down") {
		t.Error("retried alert is not a duplicate")
	}
	if queue("+15557654321@tg.example.test", "alert-2", "[FIRING:1] Down, in full") {
		t.Error("first chat alert is a duplicate")
	}
	sent, err := smsT.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := (transports.Outbound{Account: "+15550001111", To: "+15551234567", Body: "[FIRING:1] Down", ID: sent[0].ID}); !reflect.DeepEqual(sent[0], want) {
		t.Errorf("SMS sent %+v, want %+v", sent[0], want)
	}
	// The shared number's replies now go to the alerts user.
	if last, err := store.Jobs().LastWriter(ctx, "sms", "+15550001111", "+15551234567"); err != nil || last != "alice@example.test" {
		t.Errorf("last writer %q, %v", last, err)
	}
	chat, err := tgT.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if chat[0].To != "+15557654321" || chat[0].Account != "" || chat[0].Body != "[FIRING:1] Down, in full" {
		t.Errorf("chat sent %+v", chat[0])
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(smsT.Sent()); n != 1 {
		t.Errorf("%d SMS sent, want 1", n)
	}
}

func TestAlertQueueXMPP(t *testing.T) {
	ctx := context.Background()
	sms, tg, _, _, store := alertGateways(t)
	q, _ := NewAlertQueue("", []*Gateway{sms, tg})
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	q.now = func() time.Time { return now }
	d, err := q.Resolve("bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after time.Duration // since the first
		text  string
		dup   bool
	}{
		0: {0, "disk <full>", false},
		1: {time.Minute, "disk <full>", true},                  // a retry
		2: {time.Minute, "disk <full> again", false},           // other text, same id
		3: {alertWindow + time.Minute, "disk <full>", true},    // a retry in the next window
		4: {3*alertWindow + time.Minute, "disk <full>", false}, // a repeat, later
	}
	want := ""
	for i, s := range steps {
		now = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).Add(s.after)
		dup, err := q.Queue(ctx, d, "alert-7", s.text)
		if err != nil || dup != s.dup {
			t.Fatalf("%d: dup %v, %v; want %v", i, dup, err, s.dup)
		}
		if !s.dup {
			want += fmt.Sprintf(`<message type="chat" id="alert-7" from="sms.example.test" to="bob@example.test"><body>%s</body><origin-id xmlns="urn:xmpp:sid:0" id="alert-7"></origin-id></message>`,
				strings.ReplaceAll(strings.ReplaceAll(s.text, "<", "&lt;"), ">", "&gt;"))
		}
	}
	if got := queued(t, store); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
	select {
	case <-sms.wakeIn:
	default:
		t.Error("the writer was not woken")
	}
}

func TestAlertQueueLimitsAndFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sms, _, smsT, _, store := alertGateways(t)
	sms.quota = newQuota(1) // as a transports.Quota of 1 would
	smsT.SendFunc = func(transports.Outbound) (string, error) {
		return "", &transports.Error{Kind: transports.KindUnreachable, Provider: "SMS", Code: "30003", Message: "Unreachable destination handset"}
	}
	go sms.dispatchLoop(ctx)
	q, _ := NewAlertQueue("alice@example.test", []*Gateway{sms})
	d, _ := q.Resolve("+15551234567")
	if _, err := q.Queue(ctx, d, "alert-1", "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Queue(ctx, d, "alert-2", "two"); !errors.Is(err, alerts.ErrLimited) ||
		err.Error() != "over the rate limit: alice@example.test may send at most 1 SMS messages an hour" {
		t.Errorf("over the limit: %v", err)
	}
	// The failure reaches the alerts user, a bare JID, as a chat message:
	// servers drop error messages to bare JIDs.
	want := `<message type="chat" id="failed-alert-1" from="+15551234567@sms.example.test" to="alice@example.test"><body>Not delivered (recipient-unavailable): SMS error 30003: Unreachable destination handset</body></message>`
	for deadline := time.Now().Add(5 * time.Second); ; {
		got := queued(t, store)
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued\n%s\nwant\n%s", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A user's own message still gets an error stanza.
	if got := string(failureStanza("m1", "+15551234567@sms.example.test", "alice@example.test/phone", newError("wait", "recipient-unavailable", "x"))); got !=
		`<message type="error" id="m1" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="wait"><recipient-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></recipient-unavailable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">x</text></error></message>` {
		t.Errorf("error stanza %s", got)
	}
}

// A delivery refused over the hourly cap counts as over quota once,
// however often the desk tries it again; another delivery counts again.
func TestAlertQueueOverQuotaCountedOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sms, _, smsT, _, _ := alertGateways(t)
	sms.quota = newQuota(1)
	smsT.SendFunc = func(transports.Outbound) (string, error) { return "SM1", nil }
	go sms.dispatchLoop(ctx)
	q, _ := NewAlertQueue("alice@example.test", []*Gateway{sms})
	d, _ := q.Resolve("+15551234567")
	if _, err := q.Queue(ctx, d, "alert-1", "one"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := q.Queue(ctx, d, "alert-2", "two"); !errors.Is(err, alerts.ErrLimited) {
			t.Fatalf("over the limit: %v", err)
		}
	}
	if _, err := q.Queue(ctx, d, "alert-3", "three"); !errors.Is(err, alerts.ErrLimited) {
		t.Fatalf("over the limit: %v", err)
	}
	if n := sms.Stats.OverQuota.Load(); n != 2 {
		t.Errorf("two deliveries refused, one of them tried 5 times: OverQuota %d, want 2", n)
	}
}

// Once maxRefused refusals younger than an hour are recorded, a new one is
// recorded all the same, in place of the oldest: its retries do not count
// again (it was not stored, and counted on every try).
func TestAlertQueueRefusalsFullEvictOldest(t *testing.T) {
	sms, _, _, _, _ := alertGateways(t)
	q, _ := NewAlertQueue("alice@example.test", []*Gateway{sms})
	now := time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)
	q.now = func() time.Time { return now }
	for i := range maxRefused {
		now = now.Add(time.Millisecond)
		if !q.firstRefusal("+15551234567@sms.example.test", "alert-"+strconv.Itoa(i)) {
			t.Fatalf("refusal %d counted as a retry", i)
		}
	}
	now = now.Add(time.Millisecond)
	if !q.firstRefusal("+15551234567@sms.example.test", "alert-new") {
		t.Fatal("a new refusal past the bound counted as a retry")
	}
	if q.firstRefusal("+15551234567@sms.example.test", "alert-new") {
		t.Error("a retry of the new refusal counted again")
	}
	if len(q.refused) != maxRefused || q.firstRefusal("+15551234567@sms.example.test", "alert-1") {
		t.Errorf("%d refusals recorded; the second oldest forgotten", len(q.refused))
	}
}
