// Package mapping translates between XMPP addresses and foreign identities,
// and keeps the gateway's durable state: the queue of messages waiting to go
// to a provider, the queue of stanzas waiting to go to XMPP, the dedupe
// record of provider message ids, and who last wrote to whom.
//
// Remote contacts' JIDs are computed from their foreign addresses
// (ContactJID/AddrOf), never stored. Everything a message needs to survive a
// restart is in the Store, written before the message is acknowledged.
//
// The Store runs on SQLite (a file, one process: OpenSQLite) or PostgreSQL
// (a server that several processes may share: OpenPostgres), with the same
// contract; Open picks one by name. The files:
//
//   - store.go: Open, OpenSQLite, the Store; postgres.go: OpenPostgres.
//   - dialect.go: what differs between the two (placeholders, schema
//     version, locks); queries are written once with ? placeholders.
//   - migrate.go, migrations/{sqlite,postgres}/NNN_*.sql: the schema, the
//     same numbered changes in each dialect.
//   - commit.go: the single writer, committing concurrent writes together.
//   - lead.go: Lead, which of several processes on one database is active.
//   - outbox.go, to_xmpp.go, links.go, kv.go, prune.go: the data.
//
// Two words for the two directions, each meaning one thing: the outbox
// (table outbox, Job, Enqueue, Pending) holds what goes to providers; the
// stanzas for XMPP (table to_xmpp, Accept, ToXMPP, Written) what goes to
// the XMPP server.
package mapping
