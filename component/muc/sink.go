package muc

import (
	"context"
	"strconv"
	"unicode/utf8"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// anonymousMember names a member whose name cannot be a nick.
const anonymousMember = "member"

// RoomInbound implements core.RoomSink: a member speaks under their nick;
// the message goes to the user's resources in the room, if the user alone
// receives it and may use the gateway; the history keeps its text and
// attachments.
func (r *rooms) RoomInbound(ctx context.Context, in transports.Inbound, room jid.JID, users []string) (core.RoomDelivery, error) {
	d := core.RoomDelivery{Sender: in.Sender, Keep: r.tr.RoomHistory()}
	if in.Group {
		// A member's nick tells same-named members apart, and never is the
		// user's own (the room's occupants, the 1:1 prefix, the history).
		nick, err := r.memberNick(ctx, room, in)
		if err != nil {
			return d, err
		}
		d.Sender = nick
	}
	d.From = occupantJID(room, d.Sender)
	if len(users) == 1 && r.c.Allowed(users[0]) {
		d.Done = r.turns.order.lock(room.String())
		r.audience(&d, room, r.joined.of(room.String(), users[0]))
	}
	d.History = historyEntries(in, d.Sender)
	return d, nil
}

// audience sets d's To, Joining and Hold for fulls, full JIDs in room:
// those whose join is answered get the message's copies through the
// store's queue; the others once it is, held behind its answers
// (occupants.joiningOf, order.go). The caller holds the room's lock, which
// d.Done releases once the sink has stored the message and held the
// copies: the route cannot change in between.
func (r *rooms) audience(d *core.RoomDelivery, room jid.JID, fulls []string) {
	var joining map[string]*answers
	for _, f := range fulls {
		a := r.joined.joiningOf(room.String(), f)
		if a == nil {
			d.To = append(d.To, f)
			continue
		}
		if joining == nil {
			joining = map[string]*answers{}
		}
		joining[f] = a
		d.Joining = append(d.Joining, f)
	}
	if joining != nil {
		d.Hold = func(full string, stanzas [][]byte) bool {
			vs := make([]any, len(stanzas))
			for i, st := range stanzas {
				vs[i] = stanza.Raw(st)
			}
			return joining[full].hold(vs...)
		}
	}
}

// memberNick returns the nick that in's sender speaks under in room: its
// name, normalised as a JID resource, with a suffix if another member or
// the user holds that nick (see mapping.Store.RoomNick). A sender with
// neither a name nor an id is the group itself ("").
func (r *rooms) memberNick(ctx context.Context, room jid.JID, in transports.Inbound) (string, error) {
	name := in.Sender
	if name == "" && in.SenderID == "" {
		return "", nil
	}
	if j, err := room.WithResource(name); err == nil && name != "" {
		name = j.Resourcepart()
	} else {
		name = anonymousMember
	}
	// Leave room for the suffix within a resource's 1023 bytes.
	for len(name) > 1000 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return r.c.Store().Rooms().RoomNick(ctx, r.c.Name(), string(in.From), in.SenderID, name)
}

// historyEntries is what of in, from sender, the room's history keeps: its
// text and attachments, with the stanza ids the sink gives their copies
// (in.ID for the text, in.ID-mK for the K-th attachment of a message with
// text). Reactions are not kept.
func historyEntries(in transports.Inbound, sender string) []mapping.RoomEntry {
	if in.ReactTo != "" {
		return nil
	}
	var out []mapping.RoomEntry
	if in.Body != "" || len(in.Media) == 0 {
		out = append(out, mapping.RoomEntry{Room: string(in.From), Sender: sender, StanzaID: in.ID, Body: in.Body, Replaces: in.Replaces})
	}
	for k, url := range in.Media {
		mid := in.ID
		if len(out) > 0 {
			mid = in.ID + "-m" + strconv.Itoa(k)
		}
		out = append(out, mapping.RoomEntry{Room: string(in.From), Sender: sender, StanzaID: mid, Body: url, OOB: url})
	}
	return out
}

// Occupied implements core.RoomSink.
func (r *rooms) Occupied(room jid.JID, user string) (string, bool) {
	if len(r.joined.of(room.String(), user)) == 0 {
		return "", false
	}
	return r.joined.subject(room.String()), true
}
