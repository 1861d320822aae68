package muc

import (
	"context"
	"encoding/xml"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// pingName is an XEP-0199 ping.
var pingName = xml.Name{Space: stanza.NSPing, Local: "ping"}

// selfPingFeature says the room answers self-pings itself (XEP-0410 3.3).
const selfPingFeature = stanza.NSMUC + "#self-ping-optimization"

// selfPing answers an XEP-0410 self-ping to room/nick: a result if the
// sender is in the room under that nick, else not-acceptable, on which
// the client joins again (after a restart, or once bounced).
func (r *rooms) selfPing(_ context.Context, w router.Writer, s *router.Stanza) error {
	room, err := r.roomJID(s.To)
	if err != nil {
		return err
	}
	if nick, ok := r.joined.nick(room.String(), s.From.String()); !ok || nick != s.To.Resourcepart() {
		return stanza.NewError("cancel", "not-acceptable", "not in the room under this nick")
	}
	router.Result(w, s, nil)
	return nil
}
