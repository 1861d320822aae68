package transports

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Addr is an address on a foreign network, opaque to the core: a phone number
// in E.164 form ("+15551234567"), a Telegram chat id ("123456789"), ...
// An Addr returned by ParseAddr is normalised: equal identities compare equal.
type Addr string

// Inbound is a message that arrived from the foreign network.
type Inbound struct {
	Account Addr      // our identity it was sent to (the gateway's number)
	From    Addr      // the remote sender
	ID      string    // the provider's message id; the core dedupes on it
	Body    string    // text; may be empty when Media is not
	Time    time.Time // when the provider received it; zero if unknown

	Name     string // the sender's display name (a chat's title, a person's name), if known
	Replaces string // the ID of an earlier Inbound that this one edits, or ""
	ReplyTo  string // the ID of the message this one replies to (an Inbound.ID or a Send id), or ""
	Quote    string // the text of that message, for clients without replies, or ""
	// ReactTo is the ID of a message the sender reacted to; Reactions is then
	// the sender's whole set of reactions to it (none: removed), and the
	// Inbound carries nothing else.
	ReactTo   string
	Reactions []string
	// Retracts is the ID of an earlier Inbound that the sender deleted;
	// the Inbound then carries nothing else.
	Retracts string
	Media    []string // public URLs of attachments, served by the gateway

	// Group is set for a message in a group chat (one chat, many members);
	// Sender then names the member who wrote it ("" if unknown), and
	// SenderID is the network's stable id of that member ("" if unknown),
	// which tells apart members of the same name. Body is the member's text
	// alone: the core adds the name where the group is shown as a single
	// contact.
	Group    bool
	Sender   string
	SenderID string

	// Own is set for a message that the account's own user wrote from
	// another app of the network (the Telegram app): From is the chat it
	// was written in. The core shows it to the user as theirs.
	Own bool
}

// Outbound is a message to send to the foreign network.
type Outbound struct {
	Account Addr   // our identity to send from (the user's number)
	To      Addr   // the remote recipient, as returned by ParseAddr
	Body    string // text
	ID      string // a stable id of this job, the same on every retry

	// Replaces is the id that Send returned for an earlier message that this
	// one corrects, or "". Transports that cannot edit send it as new.
	Replaces string
	// ReplyTo is the provider's id of the message this one replies to: the
	// id Send returned, or an Inbound.ID; "" if none or unknown. Quote is the
	// quoted text of that message, for networks without replies (SMS).
	ReplyTo, Quote string
	// Media are URLs of attachments to send with Body (which may then be
	// empty). They may be private to the user's server: a transport that
	// needs public URLs fetches them itself.
	Media []string
	// Retracts is the id Send returned for an earlier message to delete; the
	// rest is then empty. Transports that cannot delete return a *Error of
	// KindRejected.
	Retracts string
	// ReactTo is the provider's id of a message the user reacts to (as
	// ReplyTo); Reactions is then the user's whole set of reactions to it,
	// replacing earlier ones (none removes them), and the rest is empty.
	ReactTo   string
	Reactions []string
}

// Empty reports whether out has nothing to send: no text (or only white
// space), no media, and neither a retraction nor a reaction. Send refuses
// such an Outbound with a *Error of KindRejected, before any request: a
// transport never sends an empty message.
func (out Outbound) Empty() bool {
	return strings.TrimSpace(out.Body) == "" && len(out.Media) == 0 && out.Retracts == "" && out.ReactTo == ""
}

// ErrEmpty is the refusal of an Outbound with nothing to send (see Empty).
func ErrEmpty(provider string) *Error {
	return &Error{Kind: KindRejected, Provider: provider, Message: "the message has nothing to send"}
}

// State is a delivery state reported by a provider.
type State string

// Delivery states, in the order a message normally goes through them.
const (
	StateSent      State = "sent"      // handed to the carrier
	StateDelivered State = "delivered" // reached the recipient's device
	StateFailed    State = "failed"    // will not be delivered
)

// Status is a delivery report for a message sent earlier.
type Status struct {
	RemoteID string // the id Send returned
	State    State
	Code     string // the provider's error code, if any
	Text     string // a human-readable reason, if any
}

// Sink receives what a transport hears from its network.
// Implementations are safe for concurrent use and return quickly.
//
// A nil error means the event is durably stored and will be processed; any
// other error means it was not, and the transport must make the provider
// retry (for example by answering its webhook with a 5xx status).
//
// Deliver returns ErrNoRecipient when the message was acknowledged but no
// XMPP user receives it (nobody owns the account, the chat is not linked);
// retrying would not help.
type Sink interface {
	Deliver(ctx context.Context, in Inbound) error
	Report(ctx context.Context, st Status) error

	// Reachable tells whether the network can be reached; why says why not.
	// The gateway's own presence shows it. It does not block.
	Reachable(ok bool, why string)

	// Redeem redeems a one-time code that an XMPP user got from the gateway,
	// linking remote (a one-to-one chat, named name) to that user. It
	// returns the user's bare JID, or an error whose text can be shown to
	// the remote. A command sent in a group goes to GroupLinker instead.
	Redeem(ctx context.Context, remote Addr, name, code string) (user string, err error)
	// Unlink removes the link of remote (a one-to-one chat) and returns the
	// user it was linked to. A command sent in a group goes to GroupLinker.
	Unlink(ctx context.Context, remote Addr) (user string, err error)
}

// ErrNoRecipient is returned by Sink.Deliver for a message that reaches
// nobody; see Sink.
var ErrNoRecipient = errors.New("no XMPP user receives messages from this contact")

// Transport is a connection to one foreign network.
type Transport interface {
	// Name is the transport's unique name from the config; it keys the store
	// and the webhook path /hooks/<name>/.
	Name() string

	// ParseAddr validates and normalises a foreign address typed by a user or
	// taken from a JID's local part. It does no I/O and is safe for concurrent
	// use. Errors describe what is wrong with s.
	ParseAddr(s string) (Addr, error)

	// Accounts maps bare XMPP JIDs ("alice@example.com") to the identity each
	// user sends from. It is fixed for the transport's lifetime; the caller
	// must not modify it.
	Accounts() map[string]Addr

	// Run blocks until ctx is done, passing what the network sends to sink.
	// Transports fed only by webhooks may simply wait for ctx.
	Run(ctx context.Context, sink Sink) error

	// Send delivers out and returns the provider's id for it. It may block on
	// the network and must honour ctx. A failure is returned as *Error when
	// the transport can classify it. It never sends an empty message: an
	// Outbound with nothing to send (Outbound.Empty) gets ErrEmpty, before
	// any request. A transport that sends a message as several requests
	// and fails after some went out sets Error.PartSent, and a retry of
	// the same job (same Outbound.ID) then sends only the rest.
	//
	// The id names the message out became, for delivery reports, replies
	// and later corrections: a new message's, or for a correction the
	// message edited (or sent in its place). A retraction or a reaction
	// returns "", unless it was sent as a message of its own (SMS says a
	// reaction in words): then that message's id. Never the id of the
	// message it refers to (out.Retracts, out.ReactTo): the core would take
	// the reaction for that message.
	Send(ctx context.Context, out Outbound) (remoteID string, err error)
}

// WebhookReceiver is implemented by transports that receive HTTP callbacks.
// The returned handler is mounted at /hooks/<name>/ with that prefix
// stripped, so it sees paths such as "/inbound".
type WebhookReceiver interface {
	Webhooks(sink Sink) http.Handler
}

// HTTPTransport returns an http.RoundTripper for calls to a provider's API:
// the default one, keeping enough idle connections for the gateway's
// concurrent requests instead of opening a new one for most of them.
func HTTPTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return t
}
