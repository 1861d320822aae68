// Package vcard answers XEP-0054 vCard requests for contacts, with their
// name and, where the transport fetches pictures (transports.Avatars),
// their picture; and it keeps the XEP-0153 hashes of contacts' pictures,
// which the core puts in their presences (core.Avatars).
//
// Pictures, and the names signed-in accounts know contacts by, are fetched
// off the read loop, in goroutines started with core.Core.Go, at most
// maxFetches at once (past that a vCard get is answered at once with what
// is known); what they learn reaches XMPP through core.Core.Queue.
package vcard
