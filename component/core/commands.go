package core

import "mellium.im/xmpp/jid"

// Item is an item of an XEP-0030 disco#items answer.
type Item struct {
	JID  string
	Node string
	Name string
}

// NodeItems is an optional interface of an Instance that lists the items
// of a disco#items node of the gateway JID, as XEP-0050's commands node
// (http://jabber.org/protocol/commands) lists the commands a user may run.
//
// The core reads Node once, when it builds the gateway; Node is not "",
// and one node has one Instance (the first registered). The core's
// disco#items handler calls Items for every get to the gateway JID on that
// node, on the read loop, and answers with the items in their order. Items
// must not block: no network and no store, only what the Instance holds and
// Core's Allowed and Admin. It must not write to the session.
type NodeItems interface {
	Node() string
	Items(from jid.JID) []Item
}
