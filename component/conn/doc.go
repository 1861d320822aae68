// Package conn is the gateway's XEP-0114 connection to the XMPP server: Conn
// keeps one component session up (dial, handshake, reconnect with backoff),
// and Writer writes the stanzas stored for XMPP to it in order, removing them
// from the store only once the server has routed them (the write barrier).
// It routes no stanza: the core (package component) uses it.
package conn
