package muc

import (
	"context"
	"encoding/xml"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// chatState is any XEP-0085 chat state.
var chatState = xml.Name{Space: stanza.NSChatState}

// private refuses a private message to one occupant, room/nick (XEP-0045
// 7.5): the network has no way to write to one member of a group, and the
// core would relay it to the whole group. A headline is dropped, never
// answered (RFC 6121), and so is a chat state alone (typing: one a
// keystroke); an error is bounced's.
func (r *rooms) private(_ context.Context, _ router.Writer, s *router.Stanza) error {
	if s.Type == "headline" || s.HasChild(chatState) && !s.HasChild(xml.Name{Local: "body"}) &&
		!s.HasChild(xml.Name{Space: stanza.NSOOB}) {
		return nil
	}
	return stanza.NewError("cancel", "feature-not-implemented", "private messages to group members are not supported")
}
