package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"mellium.im/xmpp/jid"

	"xmppgw/component"
	"xmppgw/configs"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// cmdRun runs the gateway until ctx is done.
func cmdRun(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, ok := loadConfig("run", args, stderr)
	if !ok {
		return exitUsage
	}
	log := newLogger(cfg.Log, stderr)
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("xmppgw stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

// serve wires the store, the transports, their gateways and the HTTP server,
// and runs them until ctx is done. If ready is not nil it receives the HTTP
// listener's address once everything is started.
func serve(ctx context.Context, cfg *configs.Config, log *slog.Logger, ready chan<- string) error {
	store, err := mapping.OpenSQLite(ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	defer store.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := component.NewMetrics(reg)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if os.Getenv("XMPPGW_PPROF") == "1" {
		// Profiling on demand, for `make bench` investigations.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	var gateways []*component.Gateway
	for _, tc := range cfg.Transports {
		g, err := newGateway(cfg, tc, store, log, mux, metrics)
		if err != nil {
			return err
		}
		gateways = append(gateways, g)
	}

	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := store.Ping(r.Context()); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		for _, g := range gateways {
			if !g.Connected() {
				http.Error(w, "transport "+g.Name()+": component not connected", http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ready\n")
	})

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info("xmppgw started", "version", version, "http", ln.Addr().String(), "transports", len(gateways))

	gctx, stopGateways := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, g := range gateways {
		wg.Add(1)
		go func() { defer wg.Done(); g.Run(gctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); prune(gctx, store, log) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
		err = nil
	case err = <-httpErr:
		err = fmt.Errorf("http: %w", err)
	}
	// Stop intake first, then let the gateways finish what is in flight.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	cancel()
	stopGateways()
	wg.Wait()
	log.Info("stopped")
	return err
}

// newGateway builds one transport and its gateway, mounting its webhooks.
func newGateway(cfg *configs.Config, tc configs.Transport, store *mapping.Store, log *slog.Logger, mux *http.ServeMux, metrics *component.Metrics) (*component.Gateway, error) {
	typ, ok := transports.Lookup(tc.Type)
	if !ok {
		return nil, fmt.Errorf("transport %s: unknown type %q", tc.Name, tc.Type)
	}
	tlog := log.With("transport", tc.Name)
	tr, err := typ.New(transports.Params{
		Name:      tc.Name,
		Domain:    tc.Domain,
		PublicURL: cfg.HTTP.PublicURL + "/hooks/" + tc.Name,
		MediaURL:  cfg.HTTP.PublicURL + "/media/" + tc.Name,
		State:     store.KV(tc.Name),
		Logger:    log,
	}, tc.Settings)
	if err != nil {
		return nil, fmt.Errorf("transport %s: %w", tc.Name, err)
	}
	domain, err := jid.Parse(tc.Domain)
	if err != nil {
		return nil, fmt.Errorf("transport %s: domain: %w", tc.Name, err)
	}
	g := component.New(component.Options{
		Transport: tr,
		Identity:  typ.Identity,
		Store:     store,
		Link:      &component.Link{Server: cfg.XMPP.Server, Domain: domain, Secret: []byte(tc.Secret), Logger: tlog},
		Logger:    log,
		Allowed:   cfg.Allowed,
		Version:   version,
		RetryFor:  tc.RetryFor,
		Metrics:   metrics,
	})
	if wr, ok := tr.(transports.WebhookReceiver); ok {
		prefix := "/hooks/" + tc.Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, logRefusals(tlog, wr.Webhooks(g))))
	}
	if ms, ok := tr.(transports.MediaServer); ok {
		prefix := "/media/" + tc.Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, ms.Media()))
	}
	return g, nil
}

// retention is how long dedupe keys and delivery-report records are kept:
// far longer than any provider retries a webhook.
const retention = 14 * 24 * time.Hour

// prune trims old dedupe and report records every hour until ctx is done.
func prune(ctx context.Context, store *mapping.Store, log *slog.Logger) {
	for {
		if err := store.Prune(ctx, time.Now().Add(-retention)); err != nil && ctx.Err() == nil {
			log.Warn("pruning the store failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
