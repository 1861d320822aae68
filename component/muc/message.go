package muc

import (
	"context"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
)

// message relays the user's groupchat message to the group, as the core
// relays a chat message (core.Core.Relay), and once it is stored keeps it
// in the room's history and reflects it to each of the user's resources in
// the room (XEP-0045): the network never echoes the bot's own messages.
func (r *rooms) message(ctx context.Context, w router.Writer, s *router.Stanza) error {
	room := s.To.Bare()
	key := occupantKey(room, s.From.String())
	// The reflection follows the answers of the sender's last join (or
	// leave), which are written in the order of her steps: after those
	// of an earlier, slower one (another room's).
	prev := r.turns.answering(key)
	send := func(ctx context.Context, w router.Writer) error { return r.relay(ctx, w, s, room, prev) }
	if box, ok := r.c.Inbox(room.Localpart()); ok {
		send = func(ctx context.Context, w router.Writer) error { return r.inboxMessage(ctx, w, s, box, prev) }
	}
	if !r.turns.busy(key) {
		return send(ctx, w)
	}
	// A join (or leave) of the sender's is in flight: the message waits
	// for its work, in the order read, and is relayed (or refused) even if
	// shutdown begins meanwhile.
	if r.c.Crowded(s.From) {
		return core.ErrCrowded // before a turn is taken: a turn taken must run
	}
	turn := r.turns.take(key)
	r.c.Await(s.From, w, func(ctx context.Context, w router.Writer) { turn.run(ctx, w, s, send) })
	return nil
}

// relay is message for s to room, once the sender's joins before it are
// done; its reflection follows prev (the answers of the last of them).
func (r *rooms) relay(ctx context.Context, w router.Writer, s *router.Stanza, room jid.JID, prev *answers) error {
	nick, ok := r.joined.nick(room.String(), s.From.String())
	if !ok {
		return stanza.NewError("modify", "not-acceptable", "join the room before writing to it")
	}
	remote, err := r.c.Transport().ParseAddr(mapping.AddrOf(s.To))
	if err != nil {
		return stanza.NewError("modify", "jid-malformed", err.Error())
	}
	user := s.From.Bare().String()
	return r.c.Relay(ctx, w, s, remote, func(ctx context.Context, w router.Writer, m *stanza.Message, resent bool) {
		unlock := r.turns.order.lock(room.String())
		defer unlock()
		c := r.copiesOf(room.String(), w)
		r.reflect(c, prev, room, user, nick, *m)
		r.keepOwn(ctx, string(remote), nick, m, r.tr.RoomHistory(), resent, c)
	})
}

// reflect sends the user's groupchat message m back to each of the user's
// resources in the room, from the user's occupant, as c routes it: after
// prev (see message), and after the resource's own join's answers.
func (r *rooms) reflect(c *copies, prev *answers, room jid.JID, user, nick string, m stanza.Message) {
	m.Type, m.From = "groupchat", occupantJID(room, nick)
	for _, f := range r.joined.of(room.String(), user) {
		m.To = f
		c.to(f, prev, m)
	}
}

// keepOwn keeps the user's own groupchat message m (a text or an
// attachment, or an edit of one) in the history of room (its key in the
// store), which keeps keep messages, from the nick it was sent under, and
// queues what c kept for the queue (m's copies) in the same transaction:
// a failure is logged, the message is sent all the same. A message resent
// (its job was found queued already) is kept only if it was not kept
// before (the first delivery cut short: see KeepOwnRoomMessage). The
// caller holds the room's lock.
func (r *rooms) keepOwn(ctx context.Context, room, nick string, m *stanza.Message, keep int, resent bool, c *copies) {
	e := mapping.RoomEntry{Room: room, Sender: nick, StanzaID: m.ID, Body: m.Body}
	if m.OOB != nil {
		e.OOB = m.OOB.URL
		if e.Body == "" {
			e.Body = e.OOB
		}
	}
	if m.Replace != nil {
		e.Replaces = m.Replace.ID
	}
	if m.Retract != nil || m.Reacts != nil || e.Body == "" {
		c.store(ctx) // nothing kept
		return
	}
	if err := r.c.Store().Rooms().KeepOwnRoomMessage(ctx, r.c.Name(), e, keep, resent, c.queued...); err != nil {
		r.c.Logger().Warn("cannot keep the user's message in the room's history", "room", room, "err", err)
		c.store(ctx) // its copies all the same
		return
	}
	if len(c.queued) > 0 {
		r.c.Queued()
	}
}
