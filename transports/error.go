package transports

import (
	"fmt"
	"time"
)

// Kind classifies a provider failure so the core can answer the XMPP sender
// with the right error condition and decide whether to retry.
type Kind int

// Kinds of failure.
const (
	KindUnknown        Kind = iota // unclassified; treated as temporary
	KindInvalidAddress             // the recipient address is not valid
	KindRejected                   // the provider refused this message for good
	KindUnreachable                // the recipient cannot receive it
	KindAuth                       // our credentials were refused
	KindRateLimited                // too many requests; retry later
	KindUnavailable                // the provider is down or timed out; retry later
	KindNotAllowed                 // the gateway's policy refuses what the message asks (an attachment's address); the sender must change it
)

// String names the kind in metrics and logs: "rate_limited", ...
func (k Kind) String() string {
	switch k {
	case KindInvalidAddress:
		return "invalid_address"
	case KindRejected:
		return "rejected"
	case KindUnreachable:
		return "unreachable"
	case KindAuth:
		return "auth"
	case KindRateLimited:
		return "rate_limited"
	case KindUnavailable:
		return "unavailable"
	case KindNotAllowed:
		return "not_allowed"
	}
	return "unknown"
}

// Error is a classified provider failure.
type Error struct {
	Kind       Kind
	Provider   string        // "twilio"
	Code       string        // the provider's own error code, if any
	Message    string        // the provider's message; must not contain secrets
	RetryAfter time.Duration // when the provider said when to retry
	// NotSent tells that the provider surely did not take what a retry
	// would send again: no request was made (the connection was refused,
	// the name did not resolve, an attachment could not be fetched). A
	// temporary failure without it, other than KindRateLimited, leaves
	// the outcome unknown, and a retry may make a duplicate.
	NotSent bool
	// PartSent tells that part of the message went out before the
	// failure (a long text's first messages, the text before a file):
	// the recipient has it. A retry of the same job sends only the rest
	// (the transport remembers the parts sent), so the core waits out a
	// rate limit's RetryAfter rather than failing the message at once,
	// and a failure reported to the sender says that part was delivered.
	PartSent bool
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s error %s: %s", e.Provider, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Provider, e.Message)
}

// Temporary reports whether retrying the same request may succeed.
func (e *Error) Temporary() bool {
	switch e.Kind {
	case KindUnknown, KindRateLimited, KindUnavailable:
		return true
	}
	return false
}
