package transports

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// LinkError is Sink.Redeem's or Sink.Unlink's refusal, worded to be shown to
// the remote user. Any other error from them means the request could not be
// processed now and should be retried.
type LinkError struct{ Msg string }

func (e *LinkError) Error() string { return e.Msg }

// Linker is implemented by transports whose remote contacts are linked to
// XMPP users one by one (a Telegram chat to its user), rather than reached
// from an account of the user's own (an SMS number). For them the core
// routes by links kept in the store, Accounts is unused, and Inbound.Account
// and Outbound.Account are empty.
type Linker interface {
	// StaticLinks returns the links fixed in the config: remote -> bare JID.
	StaticLinks() map[Addr]string
	// LinkHelp tells a user what to do with a one-time link code.
	LinkHelp(code string) string
}

// Namer is implemented by transports that can look up a contact's display
// name (a Telegram chat's title, or its person's name), for a link that was
// made without one (from the config).
//
// Its user parameter, as Avatars', is the XMPP user (a bare JID) the
// answer is for. A transport users sign in to (Login) answers from that
// user's own account only, and with nothing if the user has none: what
// one user's account knows is never shown to another.
type Namer interface {
	// ContactName returns remote's name as user may see it, or "" if it
	// has none. It may block on the network and must honour ctx.
	ContactName(ctx context.Context, user string, remote Addr) (string, error)
}

// Avatars is implemented by transports that can fetch a contact's picture
// (a Telegram profile photo), for its vCard (XEP-0054/0153).
type Avatars interface {
	// Avatar returns remote's picture as user may see it, and its MIME
	// type, or nil data if it has none. It may block on the network and
	// must honour ctx.
	Avatar(ctx context.Context, user string, remote Addr) (data []byte, mimeType string, err error)
}

// ReceiptOnAccept is implemented by transports whose provider never reports
// delivery (Telegram): the core sends the XEP-0184 receipt and the XEP-0333
// "received" marker when Send succeeds, instead of on a delivery report.
type ReceiptOnAccept interface {
	ReceiptOnAccept()
}

// Typer is implemented by transports that can show that a user is typing.
type Typer interface {
	// Typing tells to that the user is composing a message. It is best
	// effort: it may skip the request (to respect rate limits) and must
	// return within ctx.
	Typing(ctx context.Context, account, to Addr) error
}

// Reader is implemented by transports that can mark a chat read.
type Reader interface {
	// Read marks the chat with to read, up to and including the message
	// whose Inbound.ID is upTo. It is best effort, like Typing.
	Read(ctx context.Context, account, to Addr, upTo string) error
}

// MediaServer is implemented by transports that serve attachments to XMPP
// users. The handler is mounted at /media/<name>/ with that prefix stripped;
// Params.MediaURL is its public address.
type MediaServer interface {
	Media() http.Handler
}

// KV is a small durable key-value store for a transport's own state,
// such as a poll offset. Keys are private to the transport.
type KV interface {
	// Get returns the value of key, or "" if it was never set.
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	// SetUntil is Set for state that is of no use after expires: it may
	// be gone then.
	SetUntil(ctx context.Context, key, value string, expires time.Time) error
}

// ErrCannotReconcile is wrapped by a Reconciler's error when the provider
// cannot be asked at all what it holds: it does not implement the listing
// (a 4xx or 501 answer to it), or the operator turned the check off. The
// core then sends again without a check, at least once: the recipient may
// get the message twice, and the core logs and counts each such send.
var ErrCannotReconcile = errors.New("the provider's messages cannot be listed")

// Reconciler is implemented by transports that can look up what the
// provider has, to settle a send whose outcome is unknown: the gateway died
// during it, or the request timed out. Without it such a send is repeated,
// and the recipient may get the message twice.
//
// The core calls SentSince before every new attempt at a send whose outcome
// is unknown, never for a first attempt; and past retry_for, before it
// reports such a send failed (then no new attempt follows).
type Reconciler interface {
	// SentSince returns the provider's ids of messages from out.Account to
	// out.To with out.Body, created at or after since, oldest first.
	//
	// An error that wraps ErrCannotReconcile means the check cannot be made
	// (see there); the core sends again at once (past retry_for, reports
	// the send failed). Any other error means the check failed this time (a
	// timeout, a 5xx, a 429, an unreadable answer): the core treats it as a
	// temporary failure of the send, waits and checks again, within the
	// transport's retry_for (past it, for up to retry_for more); its
	// RetryAfter, if it is a *Error, is honoured. It must not block beyond
	// ctx.
	SentSince(ctx context.Context, out Outbound, since time.Time) ([]string, error)
}

// IdempotentSender is implemented by transports whose provider takes a
// Send repeated for the same job (out.ID) once (telegram-user's random_id):
// a send of unknown outcome made again is no possible duplicate, and the
// core does not count it as one.
type IdempotentSender interface {
	IdempotentSends()
}

// Pacer is implemented by transports that keep sends within the provider's
// rate limits. The core calls Pace before each Send, outside its bound on
// concurrent requests, so a contact waiting for its turn holds up no other.
type Pacer interface {
	// Pace blocks until out may be sent, or ctx ends.
	Pace(ctx context.Context, out Outbound) error
}

// Quota is implemented by transports that cost money per message. The core
// refuses, with policy-violation, a user's messages beyond HourlyLimit in
// any hour; 0 means no limit.
type Quota interface {
	HourlyLimit() int
}

// Rooms is implemented by transports whose group chats can be shown as
// XEP-0045 rooms (a Telegram group): the linked user may join a group's
// contact JID as a room, where members are occupants.
type Rooms interface {
	// IsRoom reports whether remote, as returned by ParseAddr, is a group.
	IsRoom(remote Addr) bool
	// RoomHistory is how many of a room's last messages are kept and
	// replayed on join.
	RoomHistory() int
}

// Inbox is a shared team inbox: a number of the transport's whose texts
// the members read and answer together, in a room hosted by the gateway at
// Room@ the transport's domain.
type Inbox struct {
	Account Addr     // the number, as the transport writes it
	Room    string   // the room's local part: a name, never an address
	Members []string // bare JIDs
}

// Inboxes is implemented by transports with team inboxes (SMS). Their
// Accounts do not include the inboxes' numbers: an inbox's texts go to its
// room, and its members answer from it.
type Inboxes interface {
	Inboxes() []Inbox
}
