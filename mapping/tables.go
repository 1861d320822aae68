package mapping

// The store's methods are grouped by what they keep, one handle per kind
// of row (as bridgev2's database package has one query type per table);
// the store itself opens, closes and checks the database, prunes it, and
// holds leadership (Lead) and the transports' key-value state (KV).

// JobTable holds the messages from XMPP waiting for a provider (the outbox
// table), and what the providers accepted (sent, sent_ref, early_report,
// last_writer).
type JobTable struct{ s *Store }

// StanzaTable holds the stanzas waiting to be written to XMPP (to_xmpp),
// and the provider events already taken (seen).
type StanzaTable struct{ s *Store }

// LinkTable holds the chats bound to XMPP users (links) and the one-time
// codes that bind them (link_codes).
type LinkTable struct {
	s *Store
	// owners, if set, says whose codes may be redeemed (WithOwners).
	owners func(user string) bool
}

// RoomTable holds the rooms' history and members (room_history,
// room_members).
type RoomTable struct{ s *Store }

// Jobs is the store's jobs for providers.
func (s *Store) Jobs() JobTable { return JobTable{s} }

// ToXMPP is the store's stanzas for XMPP.
func (s *Store) ToXMPP() StanzaTable { return StanzaTable{s} }

// Links is the store's links.
func (s *Store) Links() LinkTable { return LinkTable{s: s} }

// Rooms is the store's rooms.
func (s *Store) Rooms() RoomTable { return RoomTable{s} }
