package muc

import (
	"context"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// noNick refuses a join of a room's bare JID, without a nick: XEP-0045
// 7.2.1 says jid-malformed (left unanswered, the client waits for good).
func (r *rooms) noNick(context.Context, router.Writer, *router.Stanza) error {
	return stanza.NewError("modify", "jid-malformed", "join with a nick: room/nick")
}
