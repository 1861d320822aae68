package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"mellium.im/xmpp/jid"

	"xmppgw/component"
	"xmppgw/component/conn"
	"xmppgw/component/contacts"
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
		return exitFailure // main exits at once: after errLostLead, gateways may still be running
	}
	return exitOK
}

// serve wires the store, the transports, their gateways and the HTTP server,
// and runs them until ctx is done. If ready is not nil it receives the HTTP
// listener's address once everything is started.
func serve(ctx context.Context, cfg *configs.Config, log *slog.Logger, ready chan<- string) error {
	// SQLite's lead is a lock file, taken at once or refused, before the
	// database is opened: a second run on the same file stops here, before
	// it serves anything or migrates the schema under the running one.
	store, err := openStoreLeading(ctx, cfg)
	if err != nil {
		return err
	}
	closeStore := sync.OnceValue(store.Close)
	defer closeStore()
	var held *heldLead
	if store.Driver() == mapping.DriverSQLite {
		lost, release, err := store.Lead(ctx)
		if err != nil {
			return err
		}
		held = &heldLead{lost, release}
		defer release()
		// The stranded check runs once this instance leads: on SQLite at
		// once, on PostgreSQL when it becomes active (below).
		if err := checkStranded(ctx, cfg, store, log); err != nil {
			return err
		}
	}

	// Operations endpoints answer on every instance; the rest (webhooks,
	// media, alerts) only on the active one: a standby answers 503. With
	// http.ops_listen they answer on a listener of their own.
	var active atomic.Bool
	ops := http.NewServeMux()
	mux := http.NewServeMux()
	public := standbyGate(&active, mux)
	if cfg.HTTP.OpsListen == "" {
		ops.Handle("/", public)
		public = ops
	}
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := component.NewMetrics(reg)
	// A failed collector (the store's queue depth) must not hide the rest.
	ops.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	if os.Getenv("XMPPGW_PPROF") == "1" {
		// Profiling on demand, for `make bench` investigations (pprof
		// extends the write deadline by the profile's or trace's length).
		ops.HandleFunc("/debug/pprof/", pprof.Index)
		ops.HandleFunc("/debug/pprof/profile", pprof.Profile)
		ops.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	book := contacts.New(nil, store.Contacts(), log)
	var gateways []*component.Gateway
	for i := range cfg.Transports {
		g, err := newGateway(cfg, i, store, log, mux, metrics, book)
		if err != nil {
			return err
		}
		gateways = append(gateways, g)
	}
	if err := loadAddressBook(ctx, book, cfg, gateways); err != nil {
		return err
	}
	desk, err := mountAlerts(mux, cfg, store, gateways, book, log)
	if err != nil {
		return err
	}

	ops.Handle("GET /readyz", readyHandler(&active, store, gateways, log))

	srv := &httpServers{log: log}
	addr, err := srv.listen(cfg.HTTP.Listen, public)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	opsAddr := addr
	if cfg.HTTP.OpsListen != "" {
		if opsAddr, err = srv.listen(cfg.HTTP.OpsListen, ops); err != nil {
			srv.Close()
			return fmt.Errorf("http ops_listen: %w", err)
		}
	}
	log.Info("xmppgw started", "version", version, "http", addr, "ops", opsAddr, "transports", len(gateways), "store", store.Driver())
	if ready != nil {
		ready <- addr
	}

	// Only the instance holding the store's lock connects the components.
	var lost <-chan struct{}
	release := func() {}
	if held != nil {
		lost = held.lost
	} else if lost, release, err = lead(ctx, store, log); err != nil {
		srv.Shutdown()
		return nil // stopped while a standby
	} else if err := checkStranded(ctx, cfg, store, log); err != nil {
		// On PostgreSQL the rows are the active instance's until this one
		// leads: a standby, maybe with a config newer than the active
		// one's, does not judge them.
		release()
		srv.Shutdown()
		return err
	}
	active.Store(true)
	metrics.Active.Set(1)

	gctx, stopGateways := context.WithCancel(context.WithoutCancel(ctx))
	defer release() // after the gateways have stopped (deferred before: runs later)
	var wg sync.WaitGroup
	for _, g := range gateways {
		wg.Add(1)
		go func() { defer wg.Done(); g.Run(gctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); prune(gctx, store, log) }()
	wg.Add(1)
	go func() { defer wg.Done(); book.Run(gctx) }()
	if desk != nil {
		wg.Add(1)
		go func() { defer wg.Done(); desk.Run(gctx) }()
	}

	select {
	case <-ctx.Done():
		err = nil
	case err = <-srv.errs:
		err = fmt.Errorf("http: %w", err)
	case <-lost:
		// Another instance may hold the lock by now. Stop at once, as a
		// crash would, without finishing anything: what is unfinished is in
		// the store, and the next leader treats it as after a crash. A
		// supervisor restarts this process as a standby. The deferred
		// store.Close waits for no answer from the database after a lost
		// lead: a write not committed by then was not acknowledged.
		log.Error("lost the store's active lock: stopping at once")
		srv.Close()
		// The store fails its write in flight at once (Close waits for no
		// answer after a lost lead), and the gateways, stopping, tell the
		// senders of what they read but could not store: they get
		// lostLeadGrace for it, no more, and their work is not finished.
		// What is still running then ends with the process.
		closing := make(chan struct{})
		go func() { defer close(closing); closeStore() }()
		stopGateways()
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		grace := time.NewTimer(lostLeadGrace)
		defer grace.Stop()
		select {
		case <-stopped:
		case <-grace.C:
		}
		<-closing
		return errLostLead
	}
	// Stop intake first, then let the gateways finish what is in flight.
	log.Info("shutting down")
	srv.Shutdown()
	stopGateways()
	wg.Wait()
	log.Info("stopped")
	return err
}

// newGateway builds the config's transport i and its gateway, mounting its
// webhooks.
func newGateway(cfg *configs.Config, i int, store *mapping.Store, log *slog.Logger, mux *http.ServeMux, metrics *component.Metrics, book *contacts.Book) (*component.Gateway, error) {
	tc := cfg.Transports[i]
	typ, ok := transports.Lookup(tc.Type)
	if !ok {
		return nil, fmt.Errorf("transport %s: unknown type %q", tc.Name, tc.Type)
	}
	tlog := log.With("transport", tc.Name)
	fetch, err := transports.NewFetchPolicy(cfg.Media.FetchAllow)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err) // unreachable after configs validated it
	}
	tr, err := typ.New(transports.Params{
		Name:      tc.Name,
		Domain:    tc.Domain,
		PublicURL: cfg.HTTP.PublicURL + "/hooks/" + tc.Name,
		MediaURL:  cfg.HTTP.PublicURL + "/media/" + tc.Name,
		State:     store.KV(tc.Name),
		Logger:    log,
		Fetch:     fetch,
		MediaTTL:  cfg.Media.URLTTL,
	}, tc.Settings)
	if err != nil {
		return nil, fmt.Errorf("transport %s: %w", tc.Name, err)
	}
	domain, err := jid.Parse(tc.Domain)
	if err != nil {
		return nil, fmt.Errorf("transport %s: domain: %w", tc.Name, err)
	}
	c := &conn.Conn{Server: cfg.XMPP.Server, Domain: domain, Secret: []byte(tc.Secret), Logger: tlog,
		Origin: conn.Origin{Domain: fmt.Sprintf("transports[%d].domain", i), Server: "xmpp.server", Secret: fmt.Sprintf("transports[%d].secret", i)}}
	g := component.New(component.Options{
		Transport:  tr,
		Identity:   typ.Identity,
		Store:      store,
		Conn:       c,
		Logger:     log,
		Allowed:    cfg.Allowed,
		Admin:      cfg.Admin,
		UserDomain: cfg.UserDomain,
		Version:    version,
		RetryFor:   tc.RetryFor,
		Metrics:    metrics,
		Names:      book,
	})
	recordConnected(g, c, coreKV(store, tc.Name), tc.Domain)
	if wr, ok := tr.(transports.WebhookReceiver); ok {
		prefix := "/hooks/" + tc.Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, logRefusals(tlog, metrics.WebhookRefusals.MustCurryWith(prometheus.Labels{"transport": tc.Name}), wr.Webhooks(g))))
	}
	if ms, ok := tr.(transports.MediaServer); ok {
		prefix := "/media/" + tc.Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, ms.Media()))
	}
	return g, nil
}

// prune trims old dedupe and report records every hour until ctx is done.
func prune(ctx context.Context, store *mapping.Store, log *slog.Logger) {
	for {
		if err := store.Prune(ctx, time.Now().Add(-mapping.Retention)); err != nil && ctx.Err() == nil {
			log.Warn("pruning the store failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// openStoreLeading opens cfg's store for run, which leads it, bringing
// its schema up to date: on SQLite the store's lock is taken first (see
// mapping.OpenSQLiteLeading), failing at once if another process holds
// it; PostgreSQL's lead is taken later, by Lead.
func openStoreLeading(ctx context.Context, cfg *configs.Config) (*mapping.Store, error) {
	if cfg.Store.Driver == mapping.DriverSQLite {
		return mapping.OpenSQLiteLeading(ctx, cfg.Store.Path)
	}
	return mapping.Open(ctx, cfg.Store.Driver, cfg.Store.Path, cfg.Store.DSN)
}

// heldLead is a lead taken before serve starts its work (SQLite's).
type heldLead struct {
	lost    <-chan struct{}
	release func()
}

// errLostLead ends serve when the active lock is lost; the caller must exit
// the process at once (the gateways are not waited for).
// lostLeadGrace is how long, after a lost lead, the gateways get to refuse
// what they read but could not store, before the process exits.
const lostLeadGrace = 3 * time.Second

var errLostLead = errors.New("lost the store's active lock (its database session failed); exiting so that one instance stays active")

// lead waits until this instance holds the store's active lock (at once
// with SQLite), saying so when it has to wait as a standby. On a shared
// store it then waits mapping.LeadSettle, so that a previous leader whose
// session failed has stopped before this one starts.
func lead(ctx context.Context, store *mapping.Store, log *slog.Logger) (lost <-chan struct{}, release func(), err error) {
	waiting := time.AfterFunc(500*time.Millisecond, func() {
		log.Info("standby: another instance is active; taking over when it stops")
	})
	var lastWarn time.Time
	store.OnLeadError = func(err error) {
		if time.Since(lastWarn) > time.Minute {
			lastWarn = time.Now()
			log.Warn("standby: cannot reach the store to take the active lock", "err", err)
		}
	}
	lost, release, err = store.Lead(ctx)
	if err != nil {
		waiting.Stop()
		return nil, nil, err
	}
	if store.Driver() == mapping.DriverPostgres {
		select {
		case <-time.After(mapping.LeadSettle):
		case <-ctx.Done():
			release()
			return nil, nil, ctx.Err()
		}
	}
	if !waiting.Stop() {
		log.Info("active: took over from the instance that stopped")
	}
	return lost, release, nil
}

// standbyGate answers 503 until active is set, so a load balancer (or a
// provider's retry) reaches the active instance instead.
func standbyGate(active *atomic.Bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !active.Load() {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "standby: another xmppgw instance is active", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// httpServers are the gateway's HTTP listeners: one, or two with
// http.ops_listen. The first to fail sends its error to errs.
type httpServers struct {
	log  *slog.Logger
	srvs []*http.Server
	errs chan error
}

// listen serves h on addr and returns the address it listens on.
func (s *httpServers) listen(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	if s.errs == nil {
		s.errs = make(chan error, 2)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.srvs = append(s.srvs, srv)
	go func() { s.errs <- srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

// Shutdown stops the listeners, letting requests in flight finish for up
// to 5 seconds.
func (s *httpServers) Shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.srvs {
		srv.Shutdown(ctx)
	}
}

// Close stops the listeners at once.
func (s *httpServers) Close() {
	for _, srv := range s.srvs {
		srv.Close()
	}
}
