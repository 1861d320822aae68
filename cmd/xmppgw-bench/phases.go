package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// startupAndMemory seeds the store with 100,000 links and 10,000 queued
// messages, starts the gateway, waits for the queue to drain, and returns
// the startup time and the peak RSS.
func (b *bench) startupAndMemory(ctx context.Context) (time.Duration, float64, error) {
	e := b.env
	const links, queued = 100_000, 10_000
	if err := e.seed(ctx, links, queued); err != nil {
		return 0, 0, fmt.Errorf("seeding the store: %w", err)
	}
	startup, err := e.startGateway(ctx, "config.yaml")
	if err != nil {
		return 0, 0, err
	}
	if _, err := e.twilio.Wait(ctx, queued); err != nil {
		return 0, 0, fmt.Errorf("draining the queued messages: %w", err)
	}
	rss, err := e.peakRSS()
	if err != nil {
		return 0, 0, err
	}
	fmt.Printf("  started in %d ms with %d links; %d queued messages sent; peak RSS %.1f MiB\n",
		startup.Milliseconds(), links, queued, rss)
	return startup, rss, e.login(ctx)
}

// profile, if dir is set, records a CPU profile of the gateway for d from
// now (its /debug/pprof/profile) into dir/name.pprof, in the background,
// and its allocations so far before and after into dir/name-allocs-0.pprof
// and -1 (compare them with pprof's -diff_base), and the bench's own CPU
// profile over the same time into dir/name-bench.pprof; the returned func
// waits for them.
func (e *env) profile(dir, name string, d time.Duration) func() {
	if dir == "" {
		return func() {}
	}
	e.fetchProfile("allocs", filepath.Join(dir, name+"-allocs-0.pprof"))
	self, err := os.Create(filepath.Join(dir, name+"-bench.pprof"))
	if err == nil && pprof.StartCPUProfile(self) != nil {
		self.Close()
		self = nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if self != nil {
			defer func() { pprof.StopCPUProfile(); self.Close() }()
		}
		e.fetchProfile(fmt.Sprintf("profile?seconds=%d", max(1, int(d.Seconds()))), filepath.Join(dir, name+".pprof"))
		e.fetchProfile("allocs", filepath.Join(dir, name+"-allocs-1.pprof"))
	}()
	return func() { <-done }
}

// fetchProfile saves the gateway's /debug/pprof/<what> in path.
func (e *env) fetchProfile(what, path string) {
	resp, err := http.Get(e.public + "/debug/pprof/" + what)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// tag names the server in use in the messages' ids and bodies. The store
// outlives a server change, and the gateway rightly takes a message it saw
// before (the same sender, id, recipient and body within 10 minutes; the
// same provider id within 14 days) as a resend, and drops it: every
// server's phases must send messages of their own.
func (e *env) tag() string { return strings.ToLower(e.serverName()[:1]) }

// prefix is the prefix of a phase's message bodies: its kind, the server
// and the run.
func (e *env) prefix(kind string, run int) string { return fmt.Sprintf("%s%s%d-", kind, e.tag(), run) }

// newPhase starts counting the receivers' messages with bodies prefixed p.
func (e *env) newPhase(p string) {
	e.phase.Store(p)
	for i := range e.got {
		e.got[i].Store(0)
	}
}

func (e *env) received() int64 {
	var n int64
	for i := range e.got {
		n += e.got[i].Load()
	}
	return n
}

// waitReceived waits until the receivers have n messages of the phase.
func (e *env) waitReceived(ctx context.Context, n int) error {
	for e.received() < int64(n) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("receivers got %d of %d: %w", e.received(), n, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// sendAll has every sender send its share of n messages to the JIDs that
// to gives, as fast as it can.
func (e *env) sendAll(ctx context.Context, n int, prefix string, to func(sender, k int) string) error {
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i, s := range e.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; k < n; k += senders {
				body := fmt.Sprintf("%s%d", prefix, k)
				if err := s.Send(ctx, `<message type="chat" id="`+body+`" to="`+to(i, k)+`"><body>`+body+`</body></message>`); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// baseline: c2s senders through Prosody to c2s receivers.
func (e *env) baseline(ctx context.Context, n, run int) (float64, error) {
	prefix := e.prefix("b", run)
	e.newPhase(prefix)
	start := time.Now()
	if err := e.sendAll(ctx, n, prefix, func(i, _ int) string { return fmt.Sprintf("r%d@example.test", i) }); err != nil {
		return 0, err
	}
	if err := e.waitReceived(ctx, n); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// outbound: the same senders through Prosody and the gateway to the SMS
// provider.
func (e *env) outbound(ctx context.Context, n, run int) (float64, error) {
	prefix := e.prefix("o", run)
	base := len(e.twilio.Messages())
	start := time.Now()
	if err := e.sendAll(ctx, n, prefix, func(_, k int) string { return remote(k) + "@sms.example.test" }); err != nil {
		return 0, err
	}
	if _, err := e.twilio.Wait(ctx, base+n); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// inbound: signed webhooks through the gateway and Prosody to the same c2s
// receivers, from 16 concurrent posters.
func (e *env) inbound(ctx context.Context, n, run int) (float64, error) {
	prefix := e.prefix("i", run)
	e.newPhase(prefix)
	start := time.Now()
	if err := e.post(ctx, n, prefix, 0); err != nil {
		return 0, err
	}
	if err := e.waitReceived(ctx, n); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// post sends n signed inbound webhooks, paced at perSecond in total if it
// is not 0.
func (e *env) post(ctx context.Context, n int, prefix string, perSecond float64) error {
	return e.postTo(ctx, e.public+"/hooks/sms/inbound", n, prefix, perSecond)
}

// postTo is post to the webhook URL url.
func (e *env) postTo(ctx context.Context, url string, n int, prefix string, perSecond float64) error {
	const posters = 16
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, posters)
	for w := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < n; k += posters {
				if perSecond > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(float64(k) / perSecond * float64(time.Second)))))
				}
				tag := hex.EncodeToString([]byte(strings.TrimSuffix(prefix, "-"))) // a Twilio SID: SM and 32 hex digits
				sid := fmt.Sprintf("SM%s%0*d", tag, 32-len(tag), k)
				form := e.twilio.InboundForm(sid, remote(k), receiverNum(k%senders), fmt.Sprintf("%s%d", prefix, k))
				status, err := e.twilio.PostForm(ctx, url, form)
				if err != nil || status != http.StatusOK {
					errs <- fmt.Errorf("webhook %s: %d %v", sid, status, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// latency sends perSecond messages a second for d each way and returns the
// p99 of the gateway's own latency (from its /metrics) in ms, out and in.
func (e *env) latency(ctx context.Context, perSecond float64, d time.Duration) (float64, float64, error) {
	before, err := e.histograms()
	if err != nil {
		return 0, 0, err
	}
	n := int(perSecond * d.Seconds())
	base := len(e.twilio.Messages())
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i, s := range e.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; k < n; k += senders {
				time.Sleep(time.Until(start.Add(time.Duration(float64(k) / perSecond * float64(time.Second)))))
				body := fmt.Sprintf("l%s-%d", e.tag(), k)
				if err := s.Send(ctx, `<message type="chat" id="`+body+`" to="`+remote(k)+`@sms.example.test"><body>`+body+`</body></message>`); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	if _, err := e.twilio.Wait(ctx, base+n); err != nil {
		return 0, 0, err
	}
	lat := "lat" + e.tag() + "-"
	e.newPhase(lat)
	if err := e.post(ctx, n, lat, perSecond); err != nil {
		return 0, 0, err
	}
	if err := e.waitReceived(ctx, n); err != nil {
		return 0, 0, err
	}
	after, err := e.histograms()
	if err != nil {
		return 0, 0, err
	}
	return 1000 * quantile(0.99, before["out"], after["out"]), 1000 * quantile(0.99, before["in"], after["in"]), nil
}

// histograms scrapes the SMS transport's latency histograms by direction.
func (e *env) histograms() (map[string]*dto.Histogram, error) {
	resp, err := http.Get(e.public + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]*dto.Histogram{}
	fam := fams["xmppgw_relay_latency_seconds"]
	if fam == nil {
		return out, nil
	}
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["transport"] == "sms" {
			out[labels["direction"]] = m.Histogram
		}
	}
	return out, nil
}

// allocs is how many heap allocations the gateway made so far, and their
// bytes: its Go runtime's counters, from its /metrics. They do not depend on
// how busy the machine is, so they compare builds where CPU times are noisy.
type allocs struct{ objects, bytes float64 }

// allocs scrapes the gateway's allocation counters; zero if it cannot.
func (e *env) allocs() allocs {
	resp, err := http.Get(e.public + "/metrics")
	if err != nil {
		return allocs{}
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return allocs{}
	}
	counter := func(name string) float64 {
		if f := fams[name]; f != nil && len(f.Metric) > 0 {
			if c := f.Metric[0].GetCounter(); c != nil {
				return c.GetValue()
			}
			if u := f.Metric[0].GetUntyped(); u != nil {
				return u.GetValue()
			}
		}
		return 0
	}
	return allocs{objects: counter("go_memstats_mallocs_total"), bytes: counter("go_memstats_alloc_bytes_total")}
}

// quantile estimates the q-quantile of the observations added between two
// scrapes of a histogram, interpolating within a bucket as Prometheus'
// histogram_quantile does.
func quantile(q float64, before, after *dto.Histogram) float64 {
	if after == nil {
		return math.NaN()
	}
	prev := map[float64]uint64{}
	var prevCount uint64
	if before != nil {
		for _, b := range before.Bucket {
			prev[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		prevCount = before.GetSampleCount()
	}
	total := after.GetSampleCount() - prevCount
	if total == 0 {
		return math.NaN()
	}
	rank := q * float64(total)
	lower, lowerCount := 0.0, 0.0
	for _, b := range after.Bucket {
		count := float64(b.GetCumulativeCount() - prev[b.GetUpperBound()])
		if count >= rank {
			if count == lowerCount {
				return b.GetUpperBound()
			}
			return lower + (b.GetUpperBound()-lower)*(rank-lowerCount)/(count-lowerCount)
		}
		lower, lowerCount = b.GetUpperBound(), count
	}
	return lower
}

// pacing restarts the gateway with a limit of perSecond per sender number
// against a provider that answers 429 above it, queues more than window
// allows from one number, and returns the achieved rate over window divided
// by the limit, and the number of 429 answers.
func (e *env) pacing(ctx context.Context, gateway string, perSecond float64, window time.Duration) (float64, int, error) {
	e.stopGateway()
	if err := e.writeConfig("pacing.yaml", perSecond); err != nil {
		return 0, 0, err
	}
	e.twilio.SetRateLimit(int(perSecond))
	defer e.twilio.SetRateLimit(0) // the phases after this one measure an unlimited provider
	n429 := e.twilio.Count429()
	if _, err := e.startGateway(ctx, "pacing.yaml"); err != nil {
		return 0, 0, err
	}
	defer e.stopGateway()
	n := int(perSecond*window.Seconds()) * 13 / 10
	base := len(e.twilio.Messages())
	s := e.senders[1]
	go func() {
		for k := range n {
			body := fmt.Sprintf("p-%d", k)
			if s.Send(ctx, `<message type="chat" id="`+body+`" to="`+remote(k)+`@sms.example.test"><body>`+body+`</body></message>`) != nil {
				return
			}
		}
	}()
	if _, err := e.twilio.Wait(ctx, base+1); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	sent := len(e.twilio.Messages()) - base - 1 // after the first one, within the window
	rate := float64(sent) / time.Since(t0).Seconds()
	return rate / perSecond, e.twilio.Count429() - n429, nil
}
