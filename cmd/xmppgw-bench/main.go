// Command xmppgw-bench measures the gateway against the XMPP server it sits
// behind: a real Prosody on loopback, the gateway binary with its SQLite
// store, and in-process Twilio and Telegram fakes that answer at once. Each
// throughput is reported as a ratio to a baseline measured in the same run:
// the same c2s clients, through the same Prosody, to other c2s clients.
// `make bench` runs it; it ends with one line:
//
//	BENCH out_ratio=R in_ratio=R cpu_us_per_msg=N p99_ms=N rss_mb=N pacing=R startup_ms=N
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"syscall"
	"time"
)

func main() {
	gateway := flag.String("gateway", "bin/xmppgw", "path of the xmppgw binary")
	dir := flag.String("dir", ".bench", "working directory (emptied first)")
	n := flag.Int("n", 20000, "messages per throughput measurement")
	runs := flag.Int("runs", 3, "repetitions of each throughput measurement (the median is reported)")
	micro := flag.String("micro", "", "`go test -bench` output to report as ratios to the baselines")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// The bench posts many webhooks at once: keep connections.
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 128

	abs, _ := filepath.Abs(*dir)
	b := &bench{gateway: *gateway, dir: abs, n: *n, runs: *runs, micro: *micro}
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

// bench holds one run's environment and results.
type bench struct {
	gateway, dir string
	n, runs      int
	micro        string
	env          *env
	rows         []row
}

// row is one line of the printed table.
type row struct {
	name, value, target, note string
}

func (b *bench) add(name, value, target, note string) {
	b.rows = append(b.rows, row{name, value, target, note})
	fmt.Printf("  %-34s %-14s %s\n", name, value, note)
}

func (b *bench) run(ctx context.Context) error {
	fmt.Printf("xmppgw bench: %d CPUs (GOMAXPROCS %d), %d messages per measurement, median of %d runs\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), b.n, b.runs)
	e, err := startEnv(ctx, b.gateway, b.dir)
	if err != nil {
		return err
	}
	defer e.close()
	b.env = e

	// Startup and memory with 100,000 links and 10,000 queued messages.
	startup, rss, err := b.startupAndMemory(ctx)
	if err != nil {
		return err
	}

	// Throughput, each against the c2s baseline of the same run.
	var base, out, in []float64
	cpu0, err := e.cpuTime()
	if err != nil {
		return err
	}
	relayed := 0
	for i := range b.runs {
		r, err := e.baseline(ctx, b.n, i)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		base = append(base, r)
		r, err = e.outbound(ctx, b.n, i)
		if err != nil {
			return fmt.Errorf("outbound: %w", err)
		}
		out = append(out, r)
		r, err = e.inbound(ctx, b.n, i)
		if err != nil {
			return fmt.Errorf("inbound: %w", err)
		}
		in = append(in, r)
		relayed += 2 * b.n
		fmt.Printf("  run %d: baseline %.0f msg/s, out %.0f msg/s, in %.0f msg/s\n", i+1, base[i], out[i], in[i])
	}
	cpu1, err := e.cpuTime()
	if err != nil {
		return err
	}
	cpuPerMsg := float64((cpu1 - cpu0).Microseconds()) / float64(relayed)
	mb, mo, mi := median(base), median(out), median(in)
	// The baseline moves from run to run (Prosody and the clients share two
	// cores); each run's ratio is to its own baseline, and the median is kept.
	var ro, ri []float64
	for i := range base {
		ro, ri = append(ro, out[i]/base[i]), append(ri, in[i]/base[i])
	}
	outRatio, inRatio := median(ro), median(ri)
	fmt.Println()
	b.add("baseline c2s->Prosody->c2s", fmt.Sprintf("%.0f msg/s", mb), "", "the same senders and Prosody, to c2s receivers")
	b.add("out: c2s->gateway->SMS", fmt.Sprintf("%.0f msg/s", mo), "", "")
	b.add("in: SMS webhook->gateway->c2s", fmt.Sprintf("%.0f msg/s", mi), "", "")
	b.add("out_ratio", fmt.Sprintf("%.2f", outRatio), ">= 0.9", "median of the runs' out/baseline")
	b.add("in_ratio", fmt.Sprintf("%.2f", inRatio), ">= 0.9", "median of the runs' in/baseline")
	b.add("cpu_us_per_msg", fmt.Sprintf("%.1f", cpuPerMsg), "<= 40", fmt.Sprintf("gateway user+sys CPU over %d relayed messages", relayed))

	// The gateway's own latency at 1,000 msg/s.
	pOut, pIn, err := e.latency(ctx, 1000, 5*time.Second)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	p99 := max(pOut, pIn)
	b.add("p99_ms", fmt.Sprintf("%.2f", p99), "<= 5", fmt.Sprintf("out %.2f ms, in %.2f ms, at 1,000 msg/s", pOut, pIn))
	b.add("rss_mb", fmt.Sprintf("%.1f", rss), "<= 64", "peak RSS, 100,000 links stored, 10,000 messages queued at start")
	b.add("startup_ms", fmt.Sprintf("%d", startup.Milliseconds()), "<= 300", "exec to component connected, 100,000 links stored")

	// Pacing against a provider that answers 429 above the limit.
	pacing, n429, err := e.pacing(ctx, b.gateway, 50, 20*time.Second)
	if err != nil {
		return fmt.Errorf("pacing: %w", err)
	}
	b.add("pacing", fmt.Sprintf("%.3f", pacing), "0.95..1.0, no 429", fmt.Sprintf("limit 50/s from one number over 20 s; %d answers were 429", n429))

	if b.micro != "" {
		if err := b.microRatios(b.micro); err != nil {
			return err
		}
	}
	b.print()
	fmt.Printf("BENCH out_ratio=%.2f in_ratio=%.2f cpu_us_per_msg=%.1f p99_ms=%.2f rss_mb=%.1f pacing=%.3f startup_ms=%d\n",
		outRatio, inRatio, cpuPerMsg, p99, rss, pacing, startup.Milliseconds())
	return nil
}

func (b *bench) print() {
	fmt.Printf("\n| measure | value | target |\n|---|---|---|\n")
	for _, r := range b.rows {
		if r.target != "" {
			fmt.Printf("| %s | %s | %s |\n", r.name, r.value, r.target)
		}
	}
	fmt.Println()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
