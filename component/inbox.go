package component

import (
	"context"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// deliverInbox stores in, a text to box's number from contact, for box's
// room: a groupchat copy for each member's resource in the room, and an
// entry of its history (which members who join later, or ask XEP-0313,
// read), once, deduplicated by the provider's id; a member whose join is
// not answered yet gets its copy after that (holdForJoining).
func (g *Gateway) deliverInbox(ctx context.Context, in transports.Inbound, box transports.Inbox, contact jid.JID) error {
	start := time.Now()
	room, err := jid.New(box.Room, g.domain.Domainpart(), "")
	if err != nil {
		return err
	}
	d, err := g.inboxSink.InboxInbound(ctx, in, box, room, contact.String())
	if d.Done != nil {
		defer d.Done() // once stored and held (core.RoomDelivery)
	}
	if err != nil {
		return err
	}
	copies := func(f string) [][]byte { return inboundStanzas(in, room.String(), f, "", nil, d.From, "") }
	var stanzas [][]byte
	for _, f := range d.To {
		stanzas = append(stanzas, copies(f)...)
	}
	ids, dup, err := g.o.Store.Rooms().AcceptRoom(ctx, g.name, "in:"+in.ID, d.History, d.Keep, stanzas...)
	if err != nil {
		return err
	}
	if g.stored(in, ids, dup, start) {
		g.holdForJoining(ctx, d, copies)
	}
	return nil
}
