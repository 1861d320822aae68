package component

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// A group of a transports.Rooms transport is also an XEP-0045 room at its
// contact JID, hosted by the gateway. Only the user the group is linked to
// may join it; the members seen speaking are its occupants. While none of
// the user's resources has joined, the group stays a one-to-one contact
// whose lines are prefixed with the sender's name.

// roomHistory is how many of a room's last messages are kept and replayed
// to a user who joins (the transport's setting).
func (g *Gateway) roomHistory() int { return g.roomer.RoomHistory() }

// roomFeatures are a room's disco#info features, before the contact's.
var roomFeatures = []string{nsMUC, "muc_persistent", "muc_membersonly", "muc_nonanonymous", "muc_unsecured"}

// joinedRooms remembers, in memory, which full JIDs are in which room and
// under which nick. A restart forgets them: clients join again when they
// see the room gone (XEP-0410) or reconnect.
type joinedRooms struct {
	mu    sync.Mutex
	rooms map[string]map[string]string // room bare JID -> full JID -> nick
}

// join records full in room as nick and returns the nick it had before.
func (r *joinedRooms) join(room, full, nick string) (prev string, was bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rooms == nil {
		r.rooms = map[string]map[string]string{}
	}
	occ := r.rooms[room]
	if occ == nil {
		occ = map[string]string{}
		r.rooms[room] = occ
	}
	prev, was = occ[full]
	occ[full] = nick
	return prev, was
}

// leave forgets full in room and returns its nick.
func (r *joinedRooms) leave(room, full string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	nick, ok := r.rooms[room][full]
	if ok {
		delete(r.rooms[room], full)
		if len(r.rooms[room]) == 0 {
			delete(r.rooms, room)
		}
	}
	return nick, ok
}

// nick returns full's nick in room, if it has joined.
func (r *joinedRooms) nick(room, full string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.rooms[room][full]
	return n, ok
}

// of returns the full JIDs of user (a bare JID) in room, sorted, with their
// nicks.
func (r *joinedRooms) of(room, user string) (fulls, nicks []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for f := range r.rooms[room] {
		if j, err := jid.Parse(f); err == nil && j.Bare().String() == user {
			fulls = append(fulls, f)
		}
	}
	slices.Sort(fulls)
	for _, f := range fulls {
		nicks = append(nicks, r.rooms[room][f])
	}
	return fulls, nicks
}

// isRoom reports whether remote is a group shown as a room.
func (g *Gateway) isRoom(remote transports.Addr) bool {
	return g.roomer != nil && g.roomer.IsRoom(remote)
}

// occupantJID is room/nick, or the room itself if nick is not a valid
// resource.
func occupantJID(room jid.JID, nick string) string {
	if nick != "" {
		if j, err := room.WithResource(nick); err == nil {
			return j.String()
		}
	}
	return room.String()
}

// selfPresence is the presence of the user's own occupant in room.
func selfPresence(room jid.JID, nick, full, typ string) presence {
	item := mucItem{Affiliation: "member", Role: "participant", JID: full}
	if typ == "unavailable" {
		item.Role = "none"
	}
	return presence{Type: typ, From: occupantJID(room, nick), To: full,
		MUCUser: &mucUser{Item: item, Status: []mucStatus{{Code: 100}, {Code: 110}}}}
}

// roomPresence handles the user's presence to room/nick: a join (answered
// with the occupants, the user's own presence, the history and the
// subject, in XEP-0045's order), a presence update, or leaving.
func (g *Gateway) roomPresence(t router.Writer, in inStanza, from, to jid.JID, remote transports.Addr) {
	room, err := mapping.ContactJID(remote, g.domain.Domainpart())
	if err != nil {
		g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
		return
	}
	full, nick := from.String(), to.Resourcepart()
	if in.Type == "unavailable" {
		if n, ok := g.joined.leave(room.String(), full); ok {
			t.Encode(selfPresence(room, n, full, "unavailable"))
		}
		return
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	l, ok, err := g.o.Store.LinkOf(ctx, g.name, string(remote))
	switch {
	case err != nil:
		g.reply(t, in, from, to, storeError(err))
		return
	case !ok:
		g.reply(t, in, from, to, newError("cancel", "item-not-found", string(remote)+" is not a "+g.o.Identity.Name+
			" group linked to anyone; send \"link\" to "+g.domain.String()+" to link one"))
		return
	case l.User != bare:
		g.reply(t, in, from, to, newError("auth", "registration-required",
			"this room is the "+g.o.Identity.Name+" group of another user"))
		return
	}
	// The nick becomes the user's in this room, for good: a member named
	// so later gets a suffix. One a member holds already is refused
	// (XEP-0045 7.2.9).
	if prev, was := g.joined.nick(room.String(), full); !was || prev != nick {
		ok, err := g.o.Store.ClaimUserNick(ctx, g.name, string(remote), bare, nick)
		switch {
		case err != nil:
			g.reply(t, in, from, to, storeError(err))
			return
		case !ok:
			g.reply(t, in, from, to, newError("cancel", "conflict", "a member of the group goes by that nick; choose another"))
			return
		}
	}
	if _, was := g.joined.join(room.String(), full, nick); was && in.MUC == nil {
		t.Encode(selfPresence(room, nick, full, "")) // a presence update or a new nick
		return
	}
	members, err := g.o.Store.RoomMembers(ctx, g.name, string(remote))
	if err != nil {
		g.log.Warn("reading a room's members failed", "room", remote, "err", err)
	}
	for _, m := range members {
		if m == nick {
			continue
		}
		t.Encode(presence{From: occupantJID(room, m), To: full,
			MUCUser: &mucUser{Item: mucItem{Affiliation: "member", Role: "participant"}}})
	}
	t.Encode(selfPresence(room, nick, full, ""))
	n := g.roomHistory()
	if in.MUC != nil && in.MUC.History != nil && in.MUC.History.MaxStanzas != nil {
		n = min(max(*in.MUC.History.MaxStanzas, 0), n)
	}
	if n > 0 {
		history, err := g.o.Store.RoomHistory(ctx, g.name, string(remote), n)
		if err != nil {
			g.log.Warn("reading a room's history failed", "room", remote, "err", err)
		}
		for _, e := range history {
			m := message{Type: "groupchat", ID: e.StanzaID, From: occupantJID(room, e.Sender), To: full, Body: e.Body,
				StanzaID: &stanzaID{ID: e.StanzaID, By: room.String()},
				Delay:    &delay{Stamp: time.UnixMilli(e.Created).UTC().Format("2006-01-02T15:04:05.000Z"), From: room.String()}}
			if e.Replaces != "" {
				m.Replace = &replace{ID: e.Replaces}
			}
			if e.OOB != "" {
				m.OOB = &oob{URL: e.OOB}
			}
			t.Encode(m)
		}
	}
	subject := l.Name
	if subject == "" {
		subject = string(remote)
	}
	t.Encode(message{Type: "groupchat", From: room.String(), To: full, Subject: &subject})
	g.log.Info("user joined a room", "room", remote, "jid", full)
}

// ghost forgets from in the room of to when from bounced a stanza from
// the room with an error: the client is gone (XEP-0045 7.2.x: an error
// from an occupant removes it), so the group is a contact again.
func (g *Gateway) ghost(from, to jid.JID) {
	if g.roomer == nil || to.Localpart() == "" {
		return
	}
	if _, ok := g.joined.leave(to.Bare().String(), from.String()); ok {
		g.log.Info("a room occupant bounced a stanza; removed", "room", to.Bare().String(), "jid", from.String())
	}
}

// roomMessage relays the user's groupchat message to the group, like a chat
// message, and reflects it to each of the user's resources in the room
// (XEP-0045): the network never echoes the bot's own messages.
func (g *Gateway) roomMessage(t router.Writer, in inStanza, from, to jid.JID, remote transports.Addr) {
	room := to.Bare()
	nick, ok := g.joined.nick(room.String(), from.String())
	if !ok {
		g.reply(t, in, from, to, newError("modify", "not-acceptable", "join the room before writing to it"))
		return
	}
	if (in.Body == nil || *in.Body == "") && len(in.OOB) == 0 && in.Retract == nil && in.ApplyTo == nil && in.Reactions == nil {
		if in.Composing != nil {
			g.composing(from, to)
		}
		return
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	account, e := g.accountFor(ctx, bare, remote)
	if e != nil {
		g.reply(t, in, from, to, e)
		return
	}
	if e := g.overQuota(bare, in.ID, 1); e != nil {
		g.reply(t, in, from, to, e)
		return
	}
	if err := g.queueMessage(ctx, in, from, remote, account); err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	g.keepOwn(ctx, in, remote, nick)
	fulls, _ := g.joined.of(room.String(), bare)
	for _, f := range fulls {
		m := message{Type: "groupchat", ID: in.ID, From: occupantJID(room, nick), To: f,
			Replace: in.Replace, Retract: in.Retract, Reacts: in.Reactions, Reply: in.Reply}
		if in.Body != nil {
			m.Body = *in.Body
		}
		if len(in.OOB) > 0 {
			m.OOB = &in.OOB[0]
		}
		if in.Reply != nil && len(in.Fallbacks) > 0 {
			m.Fallback = &in.Fallbacks[0]
		}
		t.Encode(m)
	}
}

// keepOwn keeps the user's own groupchat message (a text or an attachment,
// or an edit of one) in the room's history, from the nick it was sent
// under, after its job is queued: a failure is logged, the message is sent
// all the same.
func (g *Gateway) keepOwn(ctx context.Context, in inStanza, remote transports.Addr, nick string) {
	e := mapping.RoomEntry{Room: string(remote), Sender: nick, StanzaID: in.ID}
	if in.Body != nil {
		e.Body = *in.Body
	}
	if len(in.OOB) > 0 {
		e.OOB = in.OOB[0].URL
		if e.Body == "" {
			e.Body = e.OOB
		}
	}
	if in.Replace != nil {
		e.Replaces = in.Replace.ID
	}
	if e.Body == "" || in.Retract != nil || in.Reactions != nil {
		return
	}
	if err := g.o.Store.KeepOwnRoomMessage(ctx, g.name, e, g.roomHistory()); err != nil {
		g.log.Warn("cannot keep the user's message in the room's history", "room", remote, "err", err)
	}
}

// lineBreaks turns every line break a client may show (CR LF, CR, NEL,
// LS, PS, VT, FF) into LF, so that no line escapes its prefix.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n", "\v", "\n", "\f", "\n")

// prefixLines puts "name: " before every line of text: a group's message
// shown in a one-to-one chat. Every kind of line break is made LF first,
// so a member cannot start a line of their own that looks like another's
// ("ok\rAlice: approved").
func prefixLines(name, text string) string {
	if text == "" {
		return text
	}
	text = lineBreaks.Replace(text)
	if name == "" {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = name + ": " + l
	}
	return strings.Join(lines, "\n")
}

// memberName is a member's name made fit to show: on one line, trimmed.
func memberName(name string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(lineBreaks.Replace(name)), " "))
}

// anonymousMember names a member whose name cannot be a nick.
const anonymousMember = "member"

// memberNick returns the nick that in's sender speaks under in room: its
// name, normalised as a JID resource, with a suffix if another member or
// the user holds that nick (see mapping.Store.RoomNick). A sender with
// neither a name nor an id is the group itself ("").
func (g *Gateway) memberNick(ctx context.Context, room jid.JID, in transports.Inbound) (string, error) {
	name := memberName(in.Sender)
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
	return g.o.Store.RoomNick(ctx, g.name, string(in.From), in.SenderID, name)
}
