package component

import (
	"errors"

	"xmppgw/transports"
)

// providerError classifies err (from Transport.Send) for retry and reply.
func providerError(err error) *transports.Error {
	var pe *transports.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &transports.Error{Kind: transports.KindUnknown, Provider: "transport", Message: err.Error()}
}

// errorFor maps a provider failure to the stanza error the sender gets,
// which says so when part of the message was delivered (PartSent).
func errorFor(pe *transports.Error, by string) *stanzaError {
	var e *stanzaError
	switch pe.Kind {
	case transports.KindInvalidAddress:
		e = newError("modify", "jid-malformed", pe.Error())
	case transports.KindRejected:
		e = newError("cancel", "not-acceptable", pe.Error())
	case transports.KindNotAllowed:
		// The gateway's own refusal (an attachment's address): its generic
		// text alone, which names no provider, host or network error.
		e = newError("modify", "not-acceptable", pe.Message)
	case transports.KindUnreachable:
		// RFC 6120 8.3.3.13: recipient-unavailable is of type wait (the
		// recipient may come back), not cancel.
		e = newError("wait", "recipient-unavailable", pe.Error())
	case transports.KindAuth:
		e = newError("cancel", "service-unavailable", pe.Error())
	default: // temporary failures that outlasted the retry period
		e = newError("wait", "remote-server-timeout", pe.Error())
	}
	if pe.PartSent {
		// The recipient has the first part: a resend repeats it.
		e.Text += " (part of the message was delivered)"
	}
	e.By = by
	return e
}
