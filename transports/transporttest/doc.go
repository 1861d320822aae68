// Package transporttest provides a fake Transport for testing the gateway
// core without a provider, and Run, the conformance suite every transport's
// tests run against the transport on its provider's fake: ParseAddr does no
// I/O and is idempotent, Send honours its context, refuses empty messages
// and classifies every failure as a *transports.Error, an inbound event
// keeps its id when the provider sends it again, a failing Deliver makes
// the provider retry, and ErrNoRecipient is acknowledged.
package transporttest
