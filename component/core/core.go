package core

import (
	"context"
	"log/slog"
	"sync"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// Core is what a module may use of the gateway it is built for.
type Core interface {
	// Name is the transport's name, the store's key for its rows.
	Name() string
	// Domain is the component's domain.
	Domain() jid.JID
	// Identity is how the gateway presents itself.
	Identity() transports.Identity
	Logger() *slog.Logger
	Transport() transports.Transport
	Store() *mapping.Store
	// Allowed and Admin report whether a bare JID may use the gateway and
	// its admin commands.
	Allowed(bare string) bool
	Admin(bare string) bool
	// UserDomain reports whether some users of domain may use the gateway
	// (access.allow names the domain or a JID of it): the servers whose
	// XEP-0356 grants count. The domains are the config's, a few.
	UserDomain(domain string) bool
	// ContactName is the address book's name for a contact (its bare
	// JID), or "". It never blocks.
	ContactName(contact string) string
	// Inbox returns the transport's team inbox whose room is the local
	// part room (see transports.Inboxes).
	Inbox(room string) (transports.Inbox, bool)
	// Mark is data's mark: an HMAC under the gateway's key, which the
	// store keeps (the same across restarts) and nobody else has, for ids
	// of stanzas whose answers come back to the gateway. It is "" until Run
	// has read the key: a check against "" must fail.
	Mark(data string) string
	// Context is the gateway's lifetime; work started by a handler derives
	// its context from it, never from context.Background.
	Context() context.Context
	// Go runs f in a goroutine the gateway waits for when it stops; f's
	// context ends when the gateway stops.
	Go(f func(ctx context.Context))
	// Queue stores v (a value of package stanza) for the server: durable,
	// in order with everything else queued, written once connected. It
	// fails only when the store does.
	Queue(ctx context.Context, v any) error
	// Queued tells the core that stanzas for the server were stored
	// directly, with a Store method that queues them in its transaction
	// (Accept with a key, MarkAsked...), so that it writes them now.
	Queued()
	// Writing reports whether what is queued (Queue, Queued) is written
	// to the session the core reads stanzas from: false before the core
	// runs, and once its writer has stopped at shutdown (what is queued
	// then waits for the next start). What answers a stanza read goes
	// with the step's writer then.
	Writing() bool
	// Persist runs f, a store write, until it succeeds, retrying failures
	// with the core's backoff. Once ctx has ended it retries for the grace
	// period only, then gives up: the next start must redo the work.
	Persist(ctx context.Context, f func(context.Context) error)
	// Later runs f, a handler's work that commits to the store or goes to
	// the network for the user from, off the read loop, which never waits
	// for it: in a goroutine the core waits for, with a writer whose
	// stanzas go to the server once f returns, after the answers to the
	// user's stanzas read before. A handler that commits calls it and
	// returns. When too many of from's steps (or everyone's) are in
	// flight, f does not run and Later returns the error to refuse the
	// stanza with (wait/resource-constraint). f's ctx is the gateway's
	// lifetime without its end, as a handler's on the read loop: stanzas
	// are still read and answered at shutdown, so f must bound its own
	// calls (Context tells whether shutdown has begun), and answer the
	// stanza it carries, never drop it. The session stays open at
	// shutdown until the steps in flight have returned and their answers
	// are written (for a bounded while). What must follow a step's
	// answers (a message's reflection after a join's self-presence) waits
	// for them with AfterWritten(w, ...).
	Later(from jid.JID, w router.Writer, f func(ctx context.Context, w router.Writer)) error
	// Await is Later for a stanza that must not be refused for a burst
	// (a client autojoining its rooms): past the user's bound for Later
	// it goes on all the same, up to Crowded, which the caller checks
	// first; when too many of everyone's steps are in flight, the read
	// loop waits for one to end.
	Await(from jid.JID, w router.Writer, f func(ctx context.Context, w router.Writer))
	// Crowded reports whether from has so many steps in flight that
	// another would take the others' share of everyone's bound: a handler
	// that would Await refuses the stanza instead, with ErrCrowded, before
	// it takes any turn (a turn taken must run).
	Crowded(from jid.JID) bool
	// Barrier waits until the component session is up and the server has
	// routed back a ping written after everything before it, so that what
	// the server sent on connecting (XEP-0356's grants) has been handled.
	// It fails when ctx ends, the session drops or the server does not
	// answer in time.
	Barrier(ctx context.Context) error
	// Relay relays the user's message s to remote as the core relays a
	// chat message to a contact: a chat state is passed on (nothing else
	// happens then); the sender must be allowed, have the account to send
	// from and be within the hourly quota; then the message becomes a job,
	// stored by the intake. It returns the error that refuses s (a
	// *stanza.Error, or a bad value: router.BadRequest). Once the job is
	// stored (or found queued already: a resend, which resent reports),
	// then is called, possibly on another goroutine, with the writer for
	// what acknowledges the message and the message as the core read it:
	// its id, body, first attachment, correction, retraction, reactions,
	// reply and the reply's fallback. A message the store refuses is
	// answered by the core, and then is not called.
	Relay(ctx context.Context, w router.Writer, s *router.Stanza, remote transports.Addr,
		then func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool)) error
	// RelayFrom is Relay from account (a team inbox's number, which the
	// sender need not own), with body in place of the message's body (a
	// text without its addressee).
	RelayFrom(ctx context.Context, w router.Writer, s *router.Stanza, account, remote transports.Addr, body string,
		then func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool)) error

	// Links and operation, for the ad-hoc commands (package adhoc). The
	// link methods are for a transports.Linker only.

	// LinksText lists user's linked chats, one DescribeLink line each, as
	// the chat command "links" says it.
	LinksText(ctx context.Context, user string) (string, error)
	// DescribeLink is one line about l: its contact JID, name and origin.
	DescribeLink(l mapping.Link) string
	// NewLinkCode stores a fresh one-time link code for user and returns
	// the help that says how to redeem it.
	NewLinkCode(ctx context.Context, user string) (string, error)
	// AddLink links remote to user as an operator asked (package links:
	// the stanzas that make remote user's contact, and a chat message from
	// the gateway telling user). An error wrapping mapping.ErrStaticLink or
	// mapping.ErrLinkedToOther means remote is linked already.
	AddLink(ctx context.Context, remote transports.Addr, user string) error
	// RemoveLink removes remote's link, asked from XMPP by its user or an
	// admin, whom the caller has checked: the contact leaves the user's
	// roster and the user is told. It returns that user; a
	// *transports.LinkError says why the link cannot be removed.
	RemoveLink(ctx context.Context, remote transports.Addr) (user string, err error)
	// RemoveOwnLink is RemoveLink asked by user for a chat of their own:
	// the link is removed only while it links remote to user (the store
	// checks it as it removes it). An error wrapping mapping.ErrNotLinked
	// means it does not (it links another user, or none); a
	// *transports.LinkError says why else it cannot be removed.
	RemoveOwnLink(ctx context.Context, remote transports.Addr, user string) error
	// SendTest queues text for remote as a message from the XMPP address
	// from, through the same queue and lanes as any message, with no
	// quota. Where users have accounts, from sends from its own and a
	// *stanza.Error says it has none; where chats are linked, any chat
	// can be tested, linked to from or not. Any other error is the store's.
	SendTest(ctx context.Context, from jid.JID, remote transports.Addr, text string) error
	// Status is the gateway's state and counters now.
	Status() Status
}

// Module is a concern package's part of every gateway.
type Module struct {
	// Name names the module in logs and errors.
	Name string
	// New builds the module for one gateway. It has no side effects: no
	// goroutine, no I/O. It returns nil routes if the module has nothing
	// to do for this gateway's transport.
	New func(c Core) Instance
}

// Instance is a module built for one gateway.
type Instance interface {
	// Routes are the stanzas the module handles.
	Routes() []router.Route
}

var (
	mu      sync.Mutex
	modules []Module
)

// Register adds m to the modules every gateway is built with. It is
// called from init; registering a name twice panics.
func Register(m Module) {
	mu.Lock()
	defer mu.Unlock()
	for _, o := range modules {
		if o.Name == m.Name {
			panic("core: module " + m.Name + " registered twice")
		}
	}
	modules = append(modules, m)
}

// Modules returns the registered modules, in the order registered.
func Modules() []Module {
	mu.Lock()
	defer mu.Unlock()
	return append([]Module(nil), modules...)
}
