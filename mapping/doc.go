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
//   - store.go: Open, OpenSQLite, the Store; postgres.go: OpenPostgres;
//     postgres_locks.go: its advisory lock keys, fixed at open from the
//     schema holding its tables.
//   - dialect.go: what differs between the two (placeholders, schema
//     version, locks); queries are written once with ? placeholders.
//   - migrate.go, migrations/{sqlite,postgres}/NNN_*.sql: the schema, the
//     same numbered changes in each dialect.
//   - commit.go: the single writer, committing concurrent writes together;
//     checkpoint.go: SQLite's WAL checkpoints, off the commit path;
//     window.go: a dedupe window in memory, which SQLite keeps for the
//     resends (resend.go) and the provider events taken (events.go).
//   - lead.go: Lead, which of several processes on one database is active.
//   - tables.go: the handles that group the methods by what they keep:
//     Jobs (outbox.go), ToXMPP (to_xmpp.go), Links (links.go,
//     admin_links.go), Rooms (rooms.go), and KV (kv.go); prune.go, depth.go
//     and writable.go work across them.
//
// Two words for the two directions, each meaning one thing: the jobs
// (table outbox, Store.Jobs: Job, Enqueue, Pending) are what goes to
// providers; the stanzas for XMPP (table to_xmpp, Store.ToXMPP: Accept,
// Pending, Written) what goes to the XMPP server.
package mapping
