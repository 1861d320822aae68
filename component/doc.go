// Package component is the gateway core: one XEP-0114 component connection
// per transport, the intake that turns stanzas into jobs for the transport,
// the dispatch lanes that send them in order, and the Sink that turns what
// the transport hears into stanzas for XMPP.
//
// Stanzas are read whole and routed (package router) to the core's own
// handlers, one file per XEP (ping.go, disco.go, receipts.go...), and to
// the concern packages' modules (package core; component/modules.go lists
// them). Nothing here talks to a provider directly: a Gateway drives a
// transports.Transport, and every message in either direction passes
// through the store (package mapping) before it is acknowledged.
//
//	XMPP -> router -> handler -> intake -> store (jobs) -> lane -> Transport.Send
//	provider -> Transport -> Sink.Deliver -> store (stanzas) -> writer -> XMPP
//
// docs/architecture.md has the map of the packages.
package component
