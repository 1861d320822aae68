package component

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/component/contacts"
	"xmppgw/component/core"
	"xmppgw/component/links"
	"xmppgw/component/router"
	"xmppgw/internal/quietlog"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// Options configure a Gateway. Transport, Store, Link and Logger are
// required.
type Options struct {
	Transport transports.Transport
	Identity  transports.Identity
	Store     *mapping.Store
	Conn      *conn.Conn
	Logger    *slog.Logger

	// Allowed reports whether a bare JID may use the gateway. Nil allows
	// nobody.
	Allowed func(bare string) bool
	// Admin reports whether a bare JID may run the admin commands. Nil
	// allows nobody.
	Admin func(bare string) bool
	// UserDomain reports whether some users of a domain may use the
	// gateway (the domains of access.allow's entries): only their servers'
	// XEP-0356 grants are read. Nil: none.
	UserDomain func(domain string) bool
	Version    string // reported by XEP-0092

	// RetryFor is how long temporary provider failures are retried before
	// the sender gets an error; zero means 10 minutes.
	RetryFor time.Duration
	// Workers bounds concurrent provider requests; zero means 16.
	Workers int
	// Grace is how long Run waits for in-flight provider requests after ctx
	// ends; zero means 10 seconds.
	Grace time.Duration
	// MaxStanza is the largest stanza accepted, in bytes; zero means
	// DefaultMaxStanza. Larger ones get policy-violation.
	MaxStanza int
	// Metrics, if set, receive the gateway's latency and message counts.
	Metrics *Metrics
	// Names is the address book (nil: no names beside the transports').
	Names *contacts.Book
}

// Gateway bridges one transport to XMPP through one component connection.
type Gateway struct {
	o      Options
	name   string
	domain jid.JID
	log    *slog.Logger
	quiet  *slog.Logger                 // log for what any XMPP user can make it log (quietlog)
	owners map[transports.Addr][]string // account -> bare JIDs, sorted; see ownersOfAccount
	login  transports.Login             // the transport, if users sign in to it
	linker transports.Linker            // nil unless contacts are linked one by one
	typer  transports.Typer             // nil unless the transport shows typing
	reader transports.Reader            // nil unless the transport marks chats read
	roomer transports.Rooms             // nil unless groups can be rooms
	rooms  core.RoomSink                // the module that shows them as rooms (routes.go)
	// inboxes are the transport's team inboxes, by room and by number;
	// inboxSink is the module that hosts their rooms (inbox.go).
	inboxes   map[string]transports.Inbox
	inboxAt   map[transports.Addr]transports.Inbox
	inboxSink core.InboxSink
	// receiptOnAccept: the provider never reports delivery, so receipts
	// are sent when it accepts a message.
	receiptOnAccept bool
	pacer           transports.Pacer             // nil unless the transport paces sends
	quota           *quota                       // nil unless the transport caps users' messages
	reach           atomic.Pointer[reachability] // whether the network can be reached
	typing          chan struct{}                // bounds typing notifications in flight
	avatars         core.Avatars                 // the module that knows contacts' pictures (routes.go, avatar.go)

	markKey   atomic.Pointer[[]byte] // marks ids of stanzas whose answers come back (marks.go)
	presences contactPresences       // contacts' presence, as a Login transport last reported it (contact_presence.go)

	wakeOut     chan struct{}    // new jobs for the provider, to be read from the store
	handoff     chan mapping.Job // new jobs for the provider, in id order
	jids        jidCache         // the from and to JIDs of stanzas, parsed
	contactJIDs jidCache         // contacts' JIDs, by address (contactJID)
	wakeIn      chan struct{}    // new stanzas for XMPP
	writing     atomic.Bool      // writeLoop runs (Writing)
	wakeReach   chan struct{}    // the network's reachability changed
	sem         chan struct{}    // bounds concurrent Send calls

	started time.Time // when Run began
	unclean bool      // the previous run did not shut down cleanly
	// unfinished is set when shutdown left sends under way.
	unfinished atomic.Bool
	outClock   clock // job id -> when its stanza was read
	inClock    clock // XMPP queue id -> when the provider's event arrived

	links *links.Service // binds chats to users, and unbinds them

	answers     Answers  // recipients' answers to alerts; nil if none (answers.go)
	answersXMPP bool     // users' messages to the gateway's JID are offered to answers
	answering   keyLocks // provider events being offered to answers, one delivery at a time

	laterMu    sync.Mutex
	later      map[string]*laterQueue // Later's steps in flight, by user (later.go)
	laterFree  *sync.Cond             // on laterMu: a step ended
	laterN     int                    // their number
	laterIdle  chan struct{}          // closed while none is in flight (nil: not asked for yet); see stepsIdle
	laterBegun uint64                 // how many have begun, ever (settle)

	mu        sync.Mutex
	lanes     map[string]*lane // one ordered queue per (account, remote)
	inLanes   int              // jobs held by the lanes (dispatch.go)
	maxLane   int              // jobs a lane holds, laneJobs but in tests
	maxLanes  int              // jobs the lanes hold, lanesJobs but in tests
	storedIDs int              // ids of stored jobs the lanes hold (dispatch.go)
	maxStored int              // of those, lanesStored but in tests
	roomOut   chan struct{}    // the lanes are down to half of maxLanes
	backoff   func(attempt int) time.Duration
	busy      sync.WaitGroup // running lane workers

	in      *intake                         // stanzas read, waiting for their commit (intake.go)
	refused *refusals                       // refusals waiting for a session (refusals.go)
	router  *router.Router                  // routes stanzas to handlers (routes.go)
	mods    []core.Instance                 // the registered modules, built for g (routes.go)
	life    atomic.Pointer[context.Context] // the gateway's lifetime, set by Run
	bg      sync.WaitGroup                  // goroutines started with Go

	// nodeItems are the modules that list a disco#items node of the
	// gateway JID, by node (routes.go, disco.go).
	nodeItems map[string]core.NodeItems

	// Stats are counters an operator can read (metrics come later).
	Stats Stats
}

// Stats counts what a Gateway did.
type Stats struct {
	ToProvider, FromProvider, Duplicates, Unowned, Failed, Retries atomic.Int64

	Resends    atomic.Int64 // XMPP messages sent again by their client, queued once
	Reconciled atomic.Int64 // sends of unknown outcome found at the provider, not repeated
	OverQuota  atomic.Int64 // messages refused over a user's hourly limit
	Refused    atomic.Int64 // stanzas answered with an error (bad address, not allowed, too big...)
	Malformed  atomic.Int64 // malformed XML from the server (the session is restarted)
	Panics     atomic.Int64 // stanzas whose handling panicked (answered internal-server-error)
	Unwritten  atomic.Int64 // answers not written: their session had ended for good (shutdown)

	// UncheckedResends counts sends of unknown outcome repeated without a
	// check (no transports.Reconciler, or transports.ErrCannotReconcile):
	// each is a possible duplicate.
	UncheckedResends atomic.Int64
}

// New returns a Gateway; it starts nothing until Run.
func New(o Options) *Gateway {
	if o.RetryFor == 0 {
		o.RetryFor = 10 * time.Minute
	}
	if o.Workers == 0 {
		o.Workers = 16
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	if o.MaxStanza == 0 {
		o.MaxStanza = DefaultMaxStanza
	}
	g := &Gateway{
		o:         o,
		name:      o.Transport.Name(),
		domain:    o.Conn.Domain,
		log:       o.Logger.With("transport", o.Transport.Name()),
		quiet:     quietlog.New(o.Logger.With("transport", o.Transport.Name())),
		wakeOut:   make(chan struct{}, 1),
		wakeIn:    make(chan struct{}, 1),
		wakeReach: make(chan struct{}, 1),
		handoff:   make(chan mapping.Job, 1024),
		sem:       make(chan struct{}, o.Workers),
		lanes:     map[string]*lane{},
		later:     map[string]*laterQueue{},
		roomOut:   make(chan struct{}, 1),
		maxLane:   laneJobs,
		maxLanes:  lanesJobs,
		maxStored: lanesStored,
		backoff:   sendRetry.Delay,
	}
	g.linker, _ = o.Transport.(transports.Linker)
	g.typer, _ = o.Transport.(transports.Typer)
	g.reader, _ = o.Transport.(transports.Reader)
	g.roomer, _ = o.Transport.(transports.Rooms)
	if ib, ok := o.Transport.(transports.Inboxes); ok {
		g.inboxes, g.inboxAt = map[string]transports.Inbox{}, map[transports.Addr]transports.Inbox{}
		for _, b := range ib.Inboxes() {
			g.inboxes[b.Room], g.inboxAt[b.Account] = b, b
		}
	}
	_, g.receiptOnAccept = o.Transport.(transports.ReceiptOnAccept)
	g.pacer, _ = o.Transport.(transports.Pacer)
	if q, ok := o.Transport.(transports.Quota); ok && q.HourlyLimit() > 0 {
		g.quota = newQuota(q.HourlyLimit())
	}
	g.typing = make(chan struct{}, 4)
	g.reach.Store(&reachability{ok: true})
	if m := o.Metrics; m != nil {
		m.queues.add(g.name, o.Store)
		m.Connected.WithLabelValues(g.name).Set(0)
		m.Reconnects.WithLabelValues(g.name)
		var ups atomic.Int64
		o.Conn.OnChange = func(up bool) {
			if !up {
				m.Connected.WithLabelValues(g.name).Set(0)
				return
			}
			m.Connected.WithLabelValues(g.name).Set(1)
			if ups.Add(1) > 1 {
				m.Reconnects.WithLabelValues(g.name).Inc()
			}
		}
		o.Conn.OnRestart = func(cause string) { m.Restarts.WithLabelValues(g.name, cause).Inc() }
	}
	g.links = &links.Service{Store: o.Store, Transport: g.name, Domain: g.domain, Network: o.Identity.Name, Contacts: g.contacts}
	g.in = newIntake(o.Store, intakeSize)
	g.refused = newRefusals()
	g.router = g.newRouter()
	g.watchSessions()
	g.login, _ = o.Transport.(transports.Login)
	g.owners = ownersOf(o.Transport.Accounts())
	g.laterFree = sync.NewCond(&g.laterMu)
	return g
}

// ownersOf inverts a transport's Accounts: account -> bare JIDs, sorted.
func ownersOf(accounts map[string]transports.Addr) map[transports.Addr][]string {
	owners := map[transports.Addr][]string{}
	for user, acct := range accounts {
		owners[acct] = append(owners[acct], user)
	}
	for _, users := range owners {
		sort.Strings(users)
	}
	return owners
}

// ownersOfAccount returns the bare JIDs that send from account. A Login
// transport's accounts change as users sign in and out: they are read
// again each time.
func (g *Gateway) ownersOfAccount(account transports.Addr) []string {
	if g.login == nil {
		return g.owners[account]
	}
	var users []string
	for user, acct := range g.o.Transport.Accounts() {
		if acct == account {
			users = append(users, user)
		}
	}
	sort.Strings(users)
	return users
}

// Run connects to the server and relays messages until ctx is done. Jobs not
// finished within the grace period stay in the store for the next start.
func (g *Gateway) Run(ctx context.Context) error {
	g.life.Store(&ctx)
	defer g.bg.Wait() // goroutines started with Go
	if g.linker != nil {
		static := map[string]string{}
		for remote, user := range g.linker.StaticLinks() {
			static[string(remote)] = user
		}
		g.persist(ctx, func(c context.Context) error { return g.o.Store.Links().SyncStaticLinks(c, g.name, static) })
	}
	if g.quota != nil {
		g.persist(ctx, g.seedQuota)
	}
	g.persist(ctx, g.loadMarkKey)
	g.persist(ctx, g.reportEarlyLeft)
	g.started = time.Now()
	if _, ok := g.o.Transport.(transports.Reconciler); ok {
		g.persist(ctx, g.noteStart)
		defer g.noteStop()
	}
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	// The connection outlives ctx until the writer has finished its batch, so a
	// clean shutdown leaves nothing to be written twice, and until the steps
	// in flight (Later) have finished and their answers are written
	// (settle): they answer stanzas read on this session.
	connCtx, stopConn := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	// The intake commits what the read loop hands it until the read loop
	// has ended, then what is left.
	g.in.running.Store(true)
	run(func() { g.intakeLoop(ctx) })
	run(func() { g.refusalLoop(ctx) })
	run(func() { defer g.stopIntake(); g.o.Conn.Run(connCtx, g, func() { wake(g.wakeIn) }) })
	run(func() { defer stopConn(); defer close(writerDone); g.writeLoop(ctx); g.settle(connCtx) })
	run(func() {
		// Do not wait for the writer (and settle) forever: past the grace
		// period the link closes anyway, and what is unconfirmed stays stored.
		<-ctx.Done()
		select {
		case <-writerDone:
		case <-time.After(g.o.Grace + conn.BarrierTimeout):
			g.log.Warn("the XMPP writer did not finish in time; closing the connection")
			stopConn()
		}
	})
	run(func() { g.dispatchLoop(ctx) })
	run(func() { g.announceLoop(ctx) })
	run(func() {
		if err := g.o.Transport.Run(ctx, g); err != nil && ctx.Err() == nil {
			g.log.Error("transport stopped", "err", err)
		}
	})
	wg.Wait()
	if n := g.refused.held(); n > 0 {
		g.log.Warn("refusals not written: shutting down with the XMPP link down", "stanzas", n)
	}
	return nil
}

// allowed reports whether the bare JID may use the gateway.
func (g *Gateway) allowed(bare string) bool {
	return g.o.Allowed != nil && g.o.Allowed(bare)
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// storeTimeout bounds a store write made on the XMPP read loop.
const storeTimeout = 5 * time.Second

// Name is the transport's name.
func (g *Gateway) Name() string { return g.name }

// coreKV is the core's own key-value state in the store, beside its
// transport's.
func (g *Gateway) coreKV() mapping.KV { return g.o.Store.KV(g.name + mapping.OwnRowsSep + "core") }

// Connected reports whether the component session is up.
func (g *Gateway) Connected() bool { return g.o.Conn.Connected() }

// ConnectError returns why the last attempt to connect failed (the dial
// or the handshake), or nil once a session has come up since.
func (g *Gateway) ConnectError() error { return g.o.Conn.ConnectError() }
