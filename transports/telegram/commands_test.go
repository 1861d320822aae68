package telegram

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

// A chat that floods the bot with commands does not hold up the other
// chats' messages: the answers wait for that chat's rate limit off the
// poll loop, and the linked chat's message is delivered while most of them
// still wait.
func TestCommandFloodDoesNotHoldUpOthers(t *testing.T) {
	tr, fake := newDefaultRates(t, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	stranger := botfake.User{ID: 999, FirstName: "Mallory"}
	sdm := botfake.Chat{ID: 999, Type: "private", FirstName: "Mallory"}
	for range 8 {
		fake.UserSends(sdm, stranger, "/help")
	}
	fake.UserSends(dm, alice, "urgent")
	if got := sink.waitInbound(t, 1); got[0].Body != "urgent" {
		t.Fatalf("got %+v", got)
	}
	if n := len(fake.SentTo(999)); n >= 8 {
		t.Errorf("the linked chat's message waited for all %d answers to the flood", n)
	}
}

// In a linked chat, a text that starts like a command but says more is a
// message ("/help me with the deploy"), and so is a caption: only a text
// that is the command alone (or /link with its code) is one.
func TestCommandsAreWholeTexts(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	fake.UserSends(dm, alice, "/help me with the deploy")
	fake.UserSendsPhoto(dm, alice, "/unlink", []byte("JPEGDATA"))
	fake.UserSends(dm, alice, "/link to the runbook: https://wiki.example/x")
	got := sink.waitInbound(t, 3)
	if got[0].Body != "/help me with the deploy" || got[1].Body != "/unlink" || got[2].Body != "/link to the runbook: https://wiki.example/x" {
		t.Errorf("delivered %+v", got)
	}
	if sink.linked["111"] != "alice@example.test" {
		t.Error("a captioned /unlink unlinked the chat")
	}
}

// A chat flooding the bot with commands has at most two answers waiting:
// the answer to another chat's command waits behind those two only, and
// the rest of the flood's answers are dropped. The bot's answers are held
// until the poll loop has handled every update (as when sending is slow):
// however busy the machine, none goes out before the flood is read.
func TestCommandFloodAnswersCapped(t *testing.T) {
	read := make(chan struct{})
	var once sync.Once
	kv := &hookKV{onSet: func(key, value string) {
		if key == offsetKey && value == "8" { // past the 7 updates below
			once.Do(func() { close(read) })
		}
	}}
	tr, fake := newDefaultRates(t, kv)
	tr.http = &http.Client{Transport: heldTransport{next: tr.http.Transport, method: "sendMessage", until: read}}
	run(t, tr, newSink())
	stranger := botfake.User{ID: 999, FirstName: "Mallory"}
	sdm := botfake.Chat{ID: 999, Type: "private", FirstName: "Mallory"}
	for range 6 {
		fake.UserSends(sdm, stranger, "/help")
	}
	fake.UserSends(dm, alice, "/help")
	ctx := testCtx(t)
	if err := fake.WaitFor(ctx, func() bool { return len(fake.SentTo(111)) == 1 }); err != nil {
		t.Fatalf("alice's command was never answered: %v", err)
	}
	var order []int64
	for _, m := range fake.Sent() {
		order = append(order, m.Chat.ID)
	}
	if want := []int64{999, 999, 111}; !slices.Equal(order, want) {
		t.Errorf("answers went to %v, want %v: two of the flood's, then alice's, the rest dropped", order, want)
	}
}

// hookKV is a state that calls onSet on every Set.
type hookKV struct {
	memKV
	onSet func(key, value string)
}

func (k *hookKV) Set(ctx context.Context, key, value string) error {
	err := k.memKV.Set(ctx, key, value)
	k.onSet(key, value)
	return err
}

// heldTransport holds the requests of a Bot API method until a channel
// is closed.
type heldTransport struct {
	next   http.RoundTripper
	method string
	until  <-chan struct{}
}

func (h heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/"+h.method) {
		select {
		case <-h.until:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return h.next.RoundTrip(r)
}

// newDefaultRates is newTest with the default rate limits (one message a
// second to a chat), as a real bot has them, and state kv (nil: a fresh
// one).
func newDefaultRates(t *testing.T, kv transports.KV) (*Transport, *botfake.Fake) {
	t.Helper()
	fake := botfake.New(testToken)
	base := fake.Start()
	t.Cleanup(fake.Close)
	if kv == nil {
		kv = &memKV{}
	}
	s := &Settings{Token: testToken, APIURL: base, Mode: ModePolling}
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		PublicURL: "https://gw.example.test/hooks/telegram", MediaURL: "https://gw.example.test/media/telegram", State: kv}, s)
	if err != nil {
		t.Fatal(err)
	}
	return tr, fake
}
