// Package component is the gateway core: one XEP-0114 component connection
// per transport, the handlers that turn stanzas into jobs for the transport,
// and the Sink that turns what the transport hears into stanzas.
//
// Nothing here talks to a provider directly: a Gateway drives a
// transports.Transport, and every message in either direction passes through
// the store (package mapping) before it is acknowledged.
//
//	XMPP -> handler -> store.outbox -> lane worker -> Transport.Send
//	provider -> Transport -> Sink.Deliver -> store.to_xmpp -> writer -> XMPP
package component
