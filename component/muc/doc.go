// Package muc shows the groups of a transports.Rooms transport as XEP-0045
// rooms hosted by the gateway, each at its group's contact JID, and the
// team inboxes of a transports.Inboxes transport (an SMS number shared by
// a team) as rooms at ROOM@ the gateway's domain. Only the user a group is
// linked to may join it, and only an inbox's members its room; the members
// seen speaking are occupants, under nicks the store keeps apart
// (mapping.Store.RoomNick). While none of the user's resources has joined,
// a group stays a one-to-one contact whose lines the core prefixes with the
// sender's name.
//
// It handles joins, presence updates and leaves (presence.go; a join
// without a nick is refused, nonick.go), the user's groupchat messages,
// relayed by the core and reflected (message.go; an inbox's go to the
// number they answer, inbox.go), private messages to an occupant, which it
// refuses (private.go), XEP-0410 self-pings (ping.go), XEP-0313 queries of
// a room's kept history (mam.go), the errors by which a client's server
// says it is gone, and, for the sink (core.RoomSink, core.InboxSink), how
// inbound messages are shown in a room (sink.go, inbox.go); order.go says
// how a room's traffic reaches each occupant in the order of its history,
// and never before the occupant's own presence. Which
// resources are in which room is kept in memory: a restart forgets it, and
// clients join again when they reconnect or when a self-ping gets
// not-acceptable.
package muc
