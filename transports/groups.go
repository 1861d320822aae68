package transports

import "context"

// Asker is the member of a group chat who sent a command there.
type Asker struct {
	// Member is the network's stable id of the member (a Telegram user
	// id), or "" if the network gave none. Ids of one network never start
	// with "xmpp:".
	Member string
	// Admin is set when the network said, when the command came, that the
	// member administers the group (Telegram's getChatMember: "creator" or
	// "administrator"; an anonymous administrator posting as the group).
	Admin bool
}

// GroupLinker is implemented by the Sink (the gateway's is) for transports
// whose chats include groups, where anyone in the chat may type a command.
// For a /link or /unlink sent in a group, a transport calls LinkGroup or
// UnlinkGroup, never Sink.Redeem or Sink.Unlink, which are for one-to-one
// chats, where the one person in the chat is the one who asks.
//
// The contract: a group that is not linked may be linked by any member who
// holds a code (the code is the XMPP user's consent); by is then recorded
// as the member who linked it. A linked group may be linked again, or
// unlinked, only by that member or by an administrator (by.Admin); anyone
// else gets a *LinkError. A transport that cannot tell who asked passes a
// zero Asker, which may only link a group that is not linked.
//
// Neither returns the XMPP user: whatever the bot says in a group is seen
// by all its members, and must not name the user. Errors are as for
// Sink.Redeem: a *LinkError is a refusal to show in the chat, anything else
// means try again later.
type GroupLinker interface {
	LinkGroup(ctx context.Context, remote Addr, name, code string, by Asker) error
	UnlinkGroup(ctx context.Context, remote Addr, by Asker) error
}
