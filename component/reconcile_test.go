package component

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/internal/logbuf"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// lister is a fake transport whose first send times out (taken or not by
// the provider, as set), and whose listing fails as check says before it
// answers honestly.
type lister struct {
	transporttest.Transport
	taken bool                 // the first, timed-out send reached the provider
	check func(call int) error // the listing's error on call 0, 1...; nil: it answers

	mu       sync.Mutex
	calls    int
	provider []string // bodies the provider holds; ids are "P<index>"
}

var _ transports.Reconciler = (*lister)(nil)

func (l *lister) SentSince(_ context.Context, out transports.Outbound, _ time.Time) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	call := l.calls
	l.calls++
	if err := l.check(call); err != nil {
		return nil, err
	}
	var ids []string
	for i, b := range l.provider {
		if b == out.Body {
			ids = append(ids, "P"+strconv.Itoa(i))
		}
	}
	return ids, nil
}

func (l *lister) send(out transports.Outbound) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := len(l.provider) == 0 && (l.calls == 0)
	if first {
		if l.taken {
			l.provider = append(l.provider, out.Body)
		}
		return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "request timed out"}
	}
	l.provider = append(l.provider, out.Body)
	return "P" + strconv.Itoa(len(l.provider)-1), nil
}

// A failed check delays a message, never drops it (issue 12, item 2). When
// a send's outcome is unknown, the listing's error is not the send's: a
// transport that cannot list (transports.ErrCannotReconcile) gets the
// message sent again, counted as a possible duplicate; any other error of
// the check is temporary, retried within RetryFor, then the usual timeout.
func TestReconcileCheckFails(t *testing.T) {
	cannot := func(status int, code string) error {
		return fmt.Errorf("%w: %w", transports.ErrCannotReconcile,
			&transports.Error{Kind: transports.KindRejected, Provider: "fake", Code: code, Message: "HTTP " + strconv.Itoa(status)})
	}
	rejected := &transports.Error{Kind: transports.KindRejected, Provider: "fake", Code: "20001", Message: "Invalid PageSize"}
	auth := &transports.Error{Kind: transports.KindAuth, Provider: "fake", Code: "20003", Message: "Authenticate"}
	limited := &transports.Error{Kind: transports.KindRateLimited, Provider: "fake", Code: "20429", Message: "Too Many Requests"}
	first := func(n int, err error) func(int) error {
		return func(call int) error {
			if call < n {
				return err
			}
			return nil
		}
	}
	cases := []struct {
		name     string
		taken    bool
		check    func(call int) error
		retryFor time.Duration
		// what the provider holds, and the counters, at the end
		provider              []string
		reconciled, unchecked int64
		queued                string // the failure stanza to the sender, if any
		warned                bool   // an unchecked resend was logged, naming the stanza id
	}{
		0: {name: "cannot list (404 on the list), first send lost: sent again, once", check: first(99, cannot(404, "")),
			provider: []string{"hi"}, unchecked: 1, warned: true},
		1: {name: "cannot list, first send had arrived: a counted duplicate", taken: true, check: first(99, cannot(405, "")),
			provider: []string{"hi", "hi"}, unchecked: 1, warned: true},
		2: {name: "the check refused twice (not ErrCannotReconcile): retried, then found", taken: true,
			check:    func(call int) error { return []error{rejected, auth, nil}[min(call, 2)] },
			provider: []string{"hi"}, reconciled: 1},
		3: {name: "the check rate-limited: the next attempt still checks first", taken: true, check: first(1, limited),
			provider: []string{"hi"}, reconciled: 1},
		4: {name: "the check refused until retry_for: the usual timeout error, not the listing's", check: first(1<<30, auth),
			retryFor: 30 * time.Millisecond,
			queued:   `<message type="error" id="r1" from="+15551234567@sms.example.test" to="alice@example.test/a"><error type="wait" by="sms.example.test"><remote-server-timeout ` + errNS + `></remote-server-timeout><text ` + errNS + `>fake error 20003: could not check whether an earlier attempt reached the provider: Authenticate</text></error></message>`},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			l := &lister{taken: tc.taken, check: tc.check}
			l.SendFunc = l.send
			var logs logbuf.Buffer
			g, store := listerGateway(t, l, &logs)
			if tc.retryFor != 0 {
				g.o.RetryFor = tc.retryFor
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() { defer close(done); g.dispatchLoop(ctx) }()
			defer func() { cancel(); <-done }()
			if got := handle(t, g, `<message type="chat" id="r1" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>hi</body></message>`); got != "" {
				t.Fatalf("%s: answered %s", tc.name, got)
			}
			for ctx.Err() == nil {
				if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: the job is still queued", tc.name)
			}
			l.mu.Lock()
			provider := strings.Join(l.provider, ",")
			l.mu.Unlock()
			if want := strings.Join(tc.provider, ","); provider != want {
				t.Errorf("%s: provider holds [%s], want [%s]", tc.name, provider, want)
			}
			if r, u := g.Stats.Reconciled.Load(), g.Stats.UncheckedResends.Load(); r != tc.reconciled || u != tc.unchecked {
				t.Errorf("%s: reconciled %d, unchecked resends %d; want %d, %d", tc.name, r, u, tc.reconciled, tc.unchecked)
			}
			var m dto.Metric
			if err := g.o.Metrics.UncheckedResends.WithLabelValues("sms").Write(&m); err != nil {
				t.Fatal(err)
			}
			if v := m.GetCounter().GetValue(); v != float64(tc.unchecked) {
				t.Errorf("%s: xmppgw_unchecked_resends_total{transport=\"sms\"} = %v, want %d", tc.name, v, tc.unchecked)
			}
			if got := queued(t, store); got != tc.queued {
				t.Errorf("%s: to the sender\n%s\nwant\n%s", tc.name, got, tc.queued)
			}
			warned := strings.Contains(logs.String(), `level=WARN msg="a send of unknown outcome cannot be checked at the provider; sending again, possibly a duplicate" transport=sms stanza_id=r1`)
			if warned != tc.warned {
				t.Errorf("%s: warned %v, want %v; log:\n%s", tc.name, warned, tc.warned, logs.String())
			}
		})
	}
}

func listerGateway(t *testing.T, l *lister, logs *logbuf.Buffer) (*Gateway, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l.TransportName = "sms"
	l.Accts = map[string]transports.Addr{"alice@example.test": "+15550001111"}
	g := New(Options{
		Transport: l, Identity: transports.Identity{Gateway: "sms", Name: "SMS"}, Store: store,
		Conn:    &conn.Conn{Domain: jid.MustParse("sms.example.test")},
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{ReplaceAttr: dropTime})),
		Allowed: func(b string) bool { return strings.HasSuffix(b, "@example.test") },
		Metrics: NewMetrics(prometheus.NewRegistry()),
	})
	g.backoff = func(int) time.Duration { return time.Millisecond }
	return g, store
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// A send of unknown outcome (a timeout) past retry_for, as happens to a
// backlog older than retry_for after an outage, is not reported failed
// before one check at the provider: found, it is adopted; not found (or
// not to be found: the provider cannot list), the timeout is reported and
// it is not sent again; a check that fails is made again, the message
// delayed, not dropped.
func TestUnknownOutcomePastRetryFor(t *testing.T) {
	const timedOut = `<message type="error" id="r1" from="+15551234567@sms.example.test" to="alice@example.test/a"><error type="wait" by="sms.example.test"><remote-server-timeout ` + errNS + `></remote-server-timeout><text ` + errNS + `>fake: request timed out</text></error></message>`
	auth := &transports.Error{Kind: transports.KindAuth, Provider: "fake", Code: "20003", Message: "Authenticate"}
	cannot := fmt.Errorf("%w: %w", transports.ErrCannotReconcile, &transports.Error{Kind: transports.KindRejected, Provider: "fake", Message: "HTTP 404"})
	cases := []struct {
		name       string
		taken      bool                 // the timed-out send reached the provider
		check      func(call int) error // the listing's errors
		provider   string               // what the provider holds at the end
		checks     int
		reconciled int64
		queued     string // to the sender
	}{
		0: {name: "the provider had it: adopted", taken: true, check: func(int) error { return nil },
			provider: "hi", checks: 1, reconciled: 1},
		1: {name: "the provider does not have it: the timeout, no resend", check: func(int) error { return nil },
			checks: 1, queued: timedOut},
		2: {name: "the check fails once, then finds it: adopted", taken: true,
			check:    func(call int) error { return []error{auth, nil}[min(call, 1)] },
			provider: "hi", checks: 2, reconciled: 1},
		3: {name: "the provider cannot list: the timeout, no resend", taken: true, check: func(int) error { return cannot },
			provider: "hi", checks: 1, queued: timedOut},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			l := &lister{taken: tc.taken, check: tc.check}
			l.SendFunc = l.send
			var logs logbuf.Buffer
			g, store := listerGateway(t, l, &logs)
			g.o.RetryFor = 100 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if got := handle(t, g, `<message type="chat" id="r1" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>hi</body></message>`); got != "" {
				t.Fatalf("%s: answered %s", tc.name, got)
			}
			time.Sleep(150 * time.Millisecond) // queued past retry_for before its first attempt (a backlog)
			done := make(chan struct{})
			go func() { defer close(done); g.dispatchLoop(ctx) }()
			defer func() { cancel(); <-done }()
			for ctx.Err() == nil {
				if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: the job is still queued", tc.name)
			}
			l.mu.Lock()
			provider, checks := strings.Join(l.provider, ","), l.calls
			l.mu.Unlock()
			if provider != tc.provider || checks != tc.checks || g.Stats.Reconciled.Load() != tc.reconciled {
				t.Errorf("%s: provider holds [%s] after %d checks, %d adopted; want [%s], %d, %d",
					tc.name, provider, checks, g.Stats.Reconciled.Load(), tc.provider, tc.checks, tc.reconciled)
			}
			if got := queued(t, store); got != tc.queued {
				t.Errorf("%s: to the sender\n%s\nwant\n%s", tc.name, got, tc.queued)
			}
		})
	}
}
