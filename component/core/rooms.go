package core

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// RoomSink is an optional interface of the Instance that shows a
// transport's groups as XEP-0045 rooms (package muc). One Instance has it
// (the first registered); without one, a group is a one-to-one contact
// whose lines are prefixed with their sender's name.
//
// The sink (Gateway.Deliver) calls RoomInbound for every inbound message
// of a group that is a room (transports.Rooms.IsRoom), before it renders
// and stores the message, with the users the message goes to. It is called
// on the transport's goroutines, concurrently with itself and with the
// routes' handlers. It may read the store and record a member's nick
// (Store.RoomNick); it must not write to the session nor queue stanzas or
// history itself: the sink stores the message's stanzas and what the
// history keeps of it in one transaction, once, deduplicated by the
// provider's id, then gives Hold the joining occupants' copies, then calls
// the delivery's Done.
type RoomSink interface {
	// RoomInbound says how in, a message of the group whose JID is room,
	// is shown to users (bare JIDs). in.Sender is the member's name as
	// the sink shows it: on one line, trimmed.
	RoomInbound(ctx context.Context, in transports.Inbound, room jid.JID, users []string) (RoomDelivery, error)
	// Occupied reports whether user (a bare JID) has a resource in room
	// (a group's JID), and the room's subject as it was sent on joining.
	// It never blocks: the core asks it on the read loop.
	Occupied(room jid.JID, user string) (subject string, ok bool)
}

// RoomDelivery is how an inbound message of a room is shown.
type RoomDelivery struct {
	// Sender is the name the message is shown under: for a member of the
	// group, their nick in the room; "" for the group itself.
	Sender string
	// To are the full JIDs of the user's resources in the room (a team
	// inbox's: every member's) whose joins are answered, sorted: each
	// gets a groupchat copy of the message from From (the sender's
	// occupant JID), with an XEP-0359 stanza id by the room. With none
	// (and none Joining), the room is shown as a one-to-one contact, its
	// lines prefixed with Sender.
	To   []string
	From string
	// Joining are the full JIDs of the room's occupants (the user's, for
	// a group) whose joins are not answered yet (their answers wait
	// behind the user's earlier steps): they get the same copies as To,
	// but not before those answers. Once the message is stored, new (no
	// duplicate), the sink gives Hold each one's copies, which it holds
	// for them in memory, to be written right after the answers; if they
	// are written by then, Hold reports false, and the sink queues the
	// copies as To's.
	Joining []string
	Hold    func(full string, stanzas [][]byte) bool
	// Done, if set, is called by the sink once it has stored the message
	// and given Hold the copies, or failed to: the room's order (which
	// occupant gets its copies which way, and the history's order) is
	// the sink's until then, and the copies' way cannot change meanwhile.
	Done func()
	// History is what the room's history keeps of the message, and Keep
	// how many of the room's last entries it keeps.
	History []mapping.RoomEntry
	Keep    int
}

// InboxSink is an optional interface of the Instance that hosts a
// transport's team inboxes (transports.Inboxes) as rooms (package muc).
// One Instance has it (the first registered).
//
// The sink (Gateway.Deliver) calls InboxInbound for every inbound message
// to an inbox's number, as it calls RoomSink.RoomInbound for a group's,
// with the same contract: the sink stores the stanzas and the history
// entries it returns, in one transaction, deduplicated by the provider's
// id.
type InboxSink interface {
	// InboxInbound says how in, a text from contact (a contact's bare
	// JID) to box's number, is shown in box's room, whose JID is room.
	InboxInbound(ctx context.Context, in transports.Inbound, box transports.Inbox, room jid.JID, contact string) (RoomDelivery, error)
}
