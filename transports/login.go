package transports

import (
	"context"
	"errors"
	"time"
)

// Login is implemented by transports where each XMPP user signs in to the
// network with an account of their own (a Telegram user account), rather
// than sending from one the operator configured. Accounts then changes as
// users sign in and out: it returns a snapshot, and the core reads it
// again for every message.
//
// Signing in takes steps: the core asks the user for each Prompt in turn
// (an XEP-0050 form) and passes the answer to LoginAnswer, until it says
// the user is done.
type Login interface {
	// BeginLogin starts user's sign-in (a bare JID), forgetting any
	// unfinished one, and returns the first question.
	BeginLogin(ctx context.Context, user string) Prompt
	// LoginAnswer passes the answer to the field of the last question.
	// It returns the next question, or nil and a line telling the user
	// they are signed in. A *LoginError is a wrong answer, worded for the
	// user; the question stands and may be answered again. Any other error
	// ends the sign-in.
	LoginAnswer(ctx context.Context, user, field, value string) (next *Prompt, done string, err error)
	// Logout ends user's session at the network and deletes it. It
	// returns ErrNotLoggedIn if user has none.
	Logout(ctx context.Context, user string) error
}

// Prompt is one question of a sign-in.
type Prompt struct {
	Field  string // the answer's name: "phone", "code", "password"
	Label  string // the question, e.g. "The code Telegram sent you"
	Secret bool   // a password: hidden as it is typed
}

// LoginError is a wrong answer to a sign-in question, worded to be shown to
// the user ("the code is wrong or expired").
type LoginError struct{ Msg string }

func (e *LoginError) Error() string { return e.Msg }

// ErrNotLoggedIn is Logout's error for a user with no session.
var ErrNotLoggedIn = errors.New("not logged in")

// Contact is one of a signed-in user's contacts on the network.
type Contact struct {
	Addr Addr   // as ParseAddr returns it
	Name string // display name, or ""
}

// AccountSink is implemented by the core's Sink for Login transports: what
// such a transport tells it beside messages.
type AccountSink interface {
	// Contacts tells that account's user has these contacts and chats: the
	// core adds those it has not added before to the user's roster
	// (XEP-0356 where the server grants it, else subscription requests).
	Contacts(ctx context.Context, account Addr, contacts []Contact) error
	// Notify tells user (a bare JID) text, in a chat message from the
	// gateway: a session that ended, a sign-in that failed.
	Notify(ctx context.Context, user, text string) error
	// Presence tells account's user that contact remote is online, or
	// not (lastSeen, if known, is when it was last).
	Presence(ctx context.Context, account, remote Addr, online bool, lastSeen time.Time) error
	// Typing tells account's user that contact remote is writing to them
	// (XEP-0085 "composing"). It is best effort.
	Typing(ctx context.Context, account, remote Addr) error
}

// Access is implemented by the core's Sink: whether user (a bare JID) may
// use the gateway (the config's access.allow). A Login transport does not
// resume, at start, the stored session of a user who may not (the
// operator took them out): it logs that, and the user may still log out
// from XMPP, which deletes the session.
type Access interface {
	Allowed(user string) bool
}

// MemberRooms is implemented by Login transports whose groups are rooms
// (Rooms): a user may join a group's room while their own account is in
// the group.
type MemberRooms interface {
	// Member reports whether user's account (a bare JID's) is in group,
	// and the group's title. It may block on the network and must honour
	// ctx.
	Member(ctx context.Context, user string, group Addr) (title string, ok bool, err error)
}
