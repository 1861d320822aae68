package core

// Contacts is an optional interface of the Instance that puts a chat on its
// user's roster (package roster: an XEP-0356 roster push where the user's
// server grants it, else a subscription request). One Instance has it (the
// first registered); without one, a contact asks the user to subscribe.
//
// The core calls it when a chat becomes, or stops being, a user's contact:
// a link code redeemed, an admin's link, an unlink, and the first message
// of a link that never asked (from the config or the shell). It is called
// on the read loop and inside store transactions: it must not block, do
// I/O, write to the session or queue anything itself. The core stores the
// stanzas it returns with the link's change, in one transaction.
type Contacts interface {
	// AddContact returns the stanzas (values of package stanza) that make
	// contact, a contact's bare JID named nick ("" if unknown), a contact
	// of user, a bare JID.
	AddContact(contact, user, nick string) []any
	// DropContact returns the stanzas that take contact off user's roster.
	DropContact(contact, user string) []any
	// MessageAs reports whether user's server lets the gateway send
	// messages as user (XEP-0356's message permission).
	MessageAs(user string) bool
}
