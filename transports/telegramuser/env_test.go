package telegramuser

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// fakeEnv is a fake Telegram server, a store, and a way to run the
// transport on them again and again (as restarts of the gateway).
type fakeEnv struct {
	mt *tguserfake.Server
	kv *transporttest.KV
	s  *Settings
}

func newFakeEnv(t *testing.T, ctx context.Context) *fakeEnv {
	t.Helper()
	mt, err := tguserfake.Start(ctx, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mt.Close() })
	s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32),
		Server: &Server{Address: mt.Addr(), PublicKey: string(mt.PublicKeyPEM())}}
	if probs := s.Validate(); len(probs) > 0 { // it also completes the settings
		t.Fatal(probs)
	}
	return &fakeEnv{mt: mt, kv: &transporttest.KV{}, s: s}
}

// run starts a transport on the env's store; stop stops it and waits.
func (e *fakeEnv) run(t *testing.T, ctx context.Context, sink transports.Sink) (*Transport, func()) {
	t.Helper()
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: e.kv}, e.s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, sink) }()
	return tr, func() { stop(); <-done }
}

// waitFor polls cond until it holds or ctx ends (then it fails with msg).
func waitFor(t *testing.T, ctx context.Context, msg string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSignedIn waits until user is signed in, and returns their account.
func waitSignedIn(t *testing.T, ctx context.Context, tr *Transport, user string) transports.Addr {
	t.Helper()
	waitFor(t, ctx, "never signed in", func() bool { return tr.Accounts()[user] != "" })
	return tr.Accounts()[user]
}

func mustGet(kv *transporttest.KV, key string) string {
	v, _ := kv.Get(context.Background(), key)
	return v
}

// signInUser signs user in as phone (signInAt is for testUser only).
func signInUser(t *testing.T, ctx context.Context, tr *Transport, mt *tguserfake.Server, user, phone string) {
	t.Helper()
	tr.BeginLogin(ctx, user)
	if next, _, err := tr.LoginAnswer(ctx, user, "phone", phone); err != nil || next == nil || next.Field != "code" {
		t.Fatalf("phone: %+v %v", next, err)
	}
	if _, done, err := tr.LoginAnswer(ctx, user, "code", mt.LastCode(phone)); err != nil || done == "" {
		t.Fatalf("code: %v", err)
	}
	waitSignedIn(t, ctx, tr, user)
}

// accountSink is a transporttest.Sink that is also a transports.AccountSink:
// it records the notices to users, and takes contacts, presence and typing.
type accountSink struct {
	*transporttest.Sink
	mu      sync.Mutex
	notices map[string][]string
}

func newAccountSink() *accountSink {
	return &accountSink{Sink: &transporttest.Sink{}, notices: map[string][]string{}}
}

func (s *accountSink) Notify(_ context.Context, user, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notices[user] = append(s.notices[user], text)
	return nil
}

func (s *accountSink) Notices(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notices[user])
}

func (s *accountSink) Contacts(context.Context, transports.Addr, []transports.Contact) error {
	return nil
}

func (s *accountSink) Presence(context.Context, transports.Addr, transports.Addr, bool, time.Time) error {
	return nil
}

func (s *accountSink) Typing(context.Context, transports.Addr, transports.Addr) error { return nil }

// chat is Alice signed in on a transport that runs until the test ends,
// with Carol among her contacts: the start of most tests of sends and
// their echoes.
type chat struct {
	*fakeEnv
	me, carol   tguserfake.User
	tr          *Transport
	sink        *transporttest.Sink // newChat's (nil with newChatOn)
	account, to transports.Addr     // Alice's account, and Carol's address
}

func newChat(t *testing.T, ctx context.Context) *chat {
	t.Helper()
	sink := &transporttest.Sink{}
	c := newChatOn(t, ctx, sink)
	c.sink = sink
	return c
}

// newChatOn is newChat with the transport's sink.
func newChatOn(t *testing.T, ctx context.Context, sink transports.Sink) *chat {
	t.Helper()
	c := &chat{fakeEnv: newFakeEnv(t, ctx)}
	c.me = c.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	c.carol = c.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	c.mt.AddContact(c.me.ID, c.carol.ID)
	tr, stop := c.run(t, ctx, sink)
	t.Cleanup(stop)
	signInAt(t, tr, c.mt, "+15550001111")
	c.tr, c.account, c.to = tr, tr.Accounts()[testUser], transports.Addr(strconv.FormatInt(c.carol.ID, 10))
	return c
}
