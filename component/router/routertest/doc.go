// Package routertest helps test handlers: it reads a stanza written as XML
// into a router.Stanza, in a stream's namespace as a server sends it, and
// records what a handler writes.
package routertest
