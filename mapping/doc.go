// Package mapping translates between XMPP addresses and foreign identities,
// and keeps the gateway's durable state: the queue of messages waiting to go
// to a provider, the queue of stanzas waiting to go to XMPP, the dedupe
// record of provider message ids, and who last wrote to whom.
//
// Remote contacts' JIDs are computed from their foreign addresses
// (LocalJID/AddrOf), never stored. Everything a message needs to survive a
// restart is in the Store, written before the message is acknowledged.
package mapping
