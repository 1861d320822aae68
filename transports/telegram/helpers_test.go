package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

const testToken = "123456:test-bot-token_x"

// memKV is the transport's state in tests.
type memKV = transporttest.KV

// recSink records what the transport hands it. Chats in linked reach a
// user; deliverErr, if set, is returned by Deliver; codes maps link codes
// to users.
type recSink struct {
	mu         sync.Mutex
	linked     map[transports.Addr]string
	codes      map[string]string
	deliverErr error
	linkedBy   map[transports.Addr]string // group -> the member who linked it
	askers     []transports.Asker         // who asked LinkGroup and UnlinkGroup
	inbound    []transports.Inbound
	reach      []bool
	changed    chan struct{}
}

func newSink() *recSink {
	return &recSink{linked: map[transports.Addr]string{}, codes: map[string]string{}, linkedBy: map[transports.Addr]string{},
		changed: make(chan struct{}, 1)}
}

func (s *recSink) Deliver(_ context.Context, in transports.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deliverErr != nil {
		return s.deliverErr
	}
	if _, ok := s.linked[in.From]; !ok {
		return transports.ErrNoRecipient
	}
	s.inbound = append(s.inbound, in)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
}

func (s *recSink) Report(context.Context, transports.Status) error { return nil }

func (s *recSink) Reachable(ok bool, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reach = append(s.reach, ok)
}

func (s *recSink) Redeem(_ context.Context, remote transports.Addr, _, code string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.codes[code]
	if !ok {
		return "", &transports.LinkError{Msg: "bad code"}
	}
	delete(s.codes, code)
	s.linked[remote] = user
	return user, nil
}

func (s *recSink) Unlink(_ context.Context, remote transports.Addr) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.linked[remote]
	if !ok {
		return "", &transports.LinkError{Msg: "not linked"}
	}
	delete(s.linked, remote)
	return user, nil
}

var _ transports.GroupLinker = (*recSink)(nil)

// mayChange is the rule of transports.GroupLinker. s.mu must be held.
func (s *recSink) mayChange(remote transports.Addr, by transports.Asker) error {
	s.askers = append(s.askers, by)
	if _, ok := s.linked[remote]; ok && !by.Admin && (by.Member == "" || by.Member != s.linkedBy[remote]) {
		return &transports.LinkError{Msg: "not yours"}
	}
	return nil
}

func (s *recSink) LinkGroup(_ context.Context, remote transports.Addr, _, code string, by transports.Asker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mayChange(remote, by); err != nil {
		return err
	}
	user, ok := s.codes[code]
	if !ok {
		return &transports.LinkError{Msg: "bad code"}
	}
	delete(s.codes, code)
	s.linked[remote], s.linkedBy[remote] = user, by.Member
	return nil
}

func (s *recSink) UnlinkGroup(_ context.Context, remote transports.Addr, by transports.Asker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mayChange(remote, by); err != nil {
		return err
	}
	if _, ok := s.linked[remote]; !ok {
		return &transports.LinkError{Msg: "not linked"}
	}
	delete(s.linked, remote)
	return nil
}

func (s *recSink) got() []transports.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]transports.Inbound(nil), s.inbound...)
}

// waitInbound waits until the sink holds n messages.
func (s *recSink) waitInbound(t *testing.T, n int) []transports.Inbound {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := s.got(); len(got) >= n {
			return got
		}
		select {
		case <-s.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("sink has %d messages, want %d", len(s.got()), n)
		}
	}
}

// newTest starts a fake Bot API and a transport using it.
func newTest(t testing.TB, mode string, kv transports.KV) (*Transport, *botfake.Fake) {
	t.Helper()
	fake := botfake.New(testToken)
	base := fake.Start()
	t.Cleanup(fake.Close)
	if kv == nil {
		kv = &memKV{}
	}
	s := &Settings{Token: testToken, APIURL: base, Mode: mode, WebhookSecret: "hook-secret-0123456789",
		RateLimits: RateLimits{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 1000}}
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		PublicURL: "https://gw.example.test/hooks/telegram", MediaURL: "https://gw.example.test/media/telegram",
		State: kv}, s)
	if err != nil {
		t.Fatal(err)
	}
	tr.pollTimeout = time.Second
	return tr, fake
}

// handlerTransport serves each request with h in the calling goroutine,
// without a network.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// newInMemory is newTest with rate limits l and no network: the fake
// serves the transport's requests in the calling goroutine. In a synctest
// bubble the pacer and the fake's flood control then run on the bubble's
// clock, and a request takes no time.
func newInMemory(t *testing.T, l RateLimits) (*Transport, *botfake.Fake) {
	t.Helper()
	fake := botfake.New(testToken) // not started: nothing listens
	t.Cleanup(fake.Close)
	s := &Settings{Token: testToken, APIURL: "http://bot-api.example.invalid", Mode: ModePolling, RateLimits: l}
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		MediaURL: "https://gw.example.test/media/telegram", State: &memKV{}}, s)
	if err != nil {
		t.Fatal(err)
	}
	tr.http = &http.Client{Transport: handlerTransport{fake.Handler()}}
	return tr, fake
}

// run runs tr until the test ends.
func run(t *testing.T, tr *Transport, sink transports.Sink) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx, sink); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// uploadCtx bounds one send of files of several MB: under -race, on a
// machine busy with other tests, each takes seconds. The bound is
// generous (the transport's own for an upload, and more): only a hang
// reaches it.
func uploadCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*uploadTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTestWith builds another transport on an existing fake (a restart).
func newTestWith(t *testing.T, fake *botfake.Fake, kv transports.KV) (*Transport, *botfake.Fake) {
	t.Helper()
	s := &Settings{Token: testToken, APIURL: fake.Start(), Mode: ModePolling,
		RateLimits: RateLimits{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 1000}}
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		MediaURL: "https://gw.example.test/media/telegram", State: kv}, s)
	if err != nil {
		t.Fatal(err)
	}
	tr.pollTimeout = time.Second
	return tr, fake
}

var errTest = errors.New("store is down")

// failingProxy serves a fake's Bot API, but answers the n-th sendMessage
// (counted from when arm is called) with a 502 that is not Bot API JSON:
// a proxy's error page, a temporary failure.
type failingProxy struct {
	mu    sync.Mutex
	count int
	failN int // 0: off
}

func (p *failingProxy) arm(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count, p.failN = 0, n
}

// newProxied builds a transport whose Bot API is a fake behind a
// failingProxy.
func newProxied(t *testing.T) (*Transport, *botfake.Fake, *failingProxy) {
	t.Helper()
	fake := botfake.New(testToken)
	t.Cleanup(fake.Close)
	p := &failingProxy{}
	h := fake.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			p.mu.Lock()
			p.count++
			fail := p.failN != 0 && p.count == p.failN
			p.mu.Unlock()
			if fail {
				http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s := &Settings{Token: testToken, APIURL: srv.URL, Mode: ModePolling,
		RateLimits: RateLimits{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 1000}}
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		MediaURL: "https://gw.example.test/media/telegram", State: &memKV{}}, s)
	if err != nil {
		t.Fatal(err)
	}
	tr.pollTimeout = time.Second
	return tr, fake, p
}

// visible returns the texts of the bot's messages in chat that were not
// deleted.
func visible(fake *botfake.Fake, chat int64) []string {
	deleted := map[int]bool{}
	for _, d := range fake.Deleted() {
		deleted[d.MessageID] = true
	}
	var out []string
	for _, m := range fake.SentTo(chat) {
		if !deleted[m.MessageID] {
			out = append(out, m.Text)
		}
	}
	return out
}
