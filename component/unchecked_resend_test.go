package component

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"xmppgw/internal/logbuf"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// idempotent is a transport whose provider takes a send repeated for the
// same job once (as telegram-user's random_id).
type idempotent struct{ *transporttest.Transport }

func (idempotent) IdempotentSends() {}

// A transport that cannot be asked what the provider took (no
// transports.Reconciler, as "telegram") sends again a message whose last
// attempt's outcome is unknown: each such send is a possible duplicate,
// logged at warn with its stanza_id and counted in
// xmppgw_unchecked_resends_total (README, "Sends of unknown outcome"). A
// failure that surely sent nothing (a rate limit, NotSent: a connection
// refused) makes no possible duplicate, nor does a resend the provider
// takes once (transports.IdempotentSender).
func TestUncheckedResendWithoutReconciler(t *testing.T) {
	timeout := &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "request timed out"}
	refused := &transports.Error{Kind: transports.KindUnavailable, Provider: "fake", Message: "connection refused", NotSent: true}
	limited := &transports.Error{Kind: transports.KindRateLimited, Provider: "fake", Code: "429", Message: "Too Many Requests"}
	const warning = `level=WARN msg="a send of unknown outcome cannot be checked at the provider; sending again, possibly a duplicate" transport=sms stanza_id=r1 err="the provider's messages cannot be listed; the last attempt: fake: request timed out"` + "\n"
	cases := []struct {
		name       string
		failures   []*transports.Error // the first sends' failures; the next succeeds
		taken      []bool              // whether each failed send reached the provider anyway
		idempotent bool
		provider   int    // copies the provider holds at the end
		unchecked  int64  // resends counted
		warnings   string // the unchecked resends' warnings
	}{
		0: {name: "a timeout after the provider took it: sent again, counted", failures: []*transports.Error{timeout}, taken: []bool{true},
			provider: 2, unchecked: 1, warnings: warning},
		1: {name: "a timeout before the provider took it: sent again, counted all the same", failures: []*transports.Error{timeout}, taken: []bool{false},
			provider: 1, unchecked: 1, warnings: warning},
		2: {name: "two timeouts: two unchecked resends", failures: []*transports.Error{timeout, timeout}, taken: []bool{true, false},
			provider: 2, unchecked: 2, warnings: warning + warning},
		3: {name: "a connection refused: nothing sent, no possible duplicate", failures: []*transports.Error{refused}, taken: []bool{false},
			provider: 1},
		4: {name: "a rate limit: nothing taken", failures: []*transports.Error{limited}, taken: []bool{false},
			provider: 1},
		5: {name: "a refused connection after a timeout: the outcome is no longer unknown", failures: []*transports.Error{timeout, refused},
			taken: []bool{false, false}, provider: 1, unchecked: 1, warnings: warning},
		6: {name: "a provider that takes a repeated send once", failures: []*transports.Error{timeout}, taken: []bool{true}, idempotent: true,
			provider: 1},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g, tr, store := testGateway(t)
				var logs logbuf.Buffer
				g.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime})).With("transport", "sms")
				g.o.Metrics = NewMetrics(prometheus.NewRegistry())
				if tc.idempotent {
					g.o.Transport = idempotent{tr}
				}
				var mu sync.Mutex
				provider, calls := 0, 0
				tr.SendFunc = func(transports.Outbound) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					call := calls
					calls++
					if call < len(tc.failures) {
						if tc.taken[call] {
							provider++
						}
						return "", tc.failures[call]
					}
					if !tc.idempotent || provider == 0 {
						provider++
					}
					return "P" + strconv.Itoa(call), nil
				}
				ctx := context.Background()
				if got := handle(t, g, `<message type="chat" id="r1" from="alice@example.test/a" to="+15551234567@sms.example.test"><body>hi</body></message>`); got != "" {
					t.Fatalf("%d: answered %s", i, got)
				}
				jobs, err := store.Jobs().Pending(ctx, "sms", 0, 10)
				if err != nil || len(jobs) != 1 {
					t.Fatalf("%d: queued %d jobs, %v", i, len(jobs), err)
				}
				g.sendJob(ctx, jobs[0])
				if left, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(left) != 0 {
					t.Fatalf("%d %s: the job is still queued", i, tc.name)
				}
				if provider != tc.provider || calls != len(tc.failures)+1 {
					t.Errorf("%d %s: %d sends, the provider holds %d copies; want %d, %d", i, tc.name, calls, provider, len(tc.failures)+1, tc.provider)
				}
				var m dto.Metric
				if err := g.o.Metrics.UncheckedResends.WithLabelValues("sms").Write(&m); err != nil {
					t.Fatal(err)
				}
				if u, v := g.Stats.UncheckedResends.Load(), m.GetCounter().GetValue(); u != tc.unchecked || v != float64(tc.unchecked) {
					t.Errorf("%d %s: Stats.UncheckedResends %d, xmppgw_unchecked_resends_total %v; want %d", i, tc.name, u, v, tc.unchecked)
				}
				var warnings strings.Builder
				for line := range strings.Lines(logs.String()) {
					if strings.Contains(line, "possibly a duplicate") {
						warnings.WriteString(line)
					}
				}
				if warnings.String() != tc.warnings {
					t.Errorf("%d %s: warnings\n%s\nwant\n%s", i, tc.name, warnings.String(), tc.warnings)
				}
			})
		})
	}
}
