// Package transports defines the contract between the gateway core and the
// plugins that speak to foreign networks (SMS, Telegram, ...), and the
// registry through which plugins make themselves known.
//
// A transport never imports an XMPP library: it deals in foreign addresses
// (Addr) and plain text. The core (package component) turns those into
// stanzas. Only cmd/xmppgw wires the two together.
package transports
