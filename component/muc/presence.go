package muc

import (
	"context"
	"encoding/xml"
	"slices"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// joinName is the element of a join: <x xmlns="http://jabber.org/protocol/muc"/>.
var joinName = xml.Name{Space: stanza.NSMUC, Local: "x"}

// presence handles the user's presence to room/nick: a join (answered
// with the occupants, the user's own presence, the history and the
// subject, in XEP-0045's order), a presence update, or leaving.
func (r *rooms) presence(ctx context.Context, w router.Writer, s *router.Stanza) error {
	room, err := r.roomJID(s.To)
	if err != nil {
		return err
	}
	full, nick := s.From.String(), s.To.Resourcepart()
	if r.c.Allowed(s.From.Bare().String()) {
		// A join commits the user's nick and may ask the network: off the
		// read loop, and one at a time per room and full JID, in the order
		// read: a leave that comes while its join is asked about waits for
		// it. (Anyone else's is answered here: that asks no one.)
		// A presence is never refused for being one too many: Await. It
		// is answered even if shutdown begins meanwhile (turn.run). The
		// reflections of the user's next messages to the room follow its
		// answers (takeAnswered).
		if r.c.Crowded(s.From) {
			return core.ErrCrowded // before a turn is taken: a turn taken must run
		}
		turn := r.turns.takeAnswered(occupantKey(room, full), room.String())
		r.c.Await(s.From, w, func(ctx context.Context, w router.Writer) {
			turn.run(ctx, w, s, func(ctx context.Context, w router.Writer) error {
				return r.occupy(ctx, w, s, room, full, nick, turn.answers)
			})
		})
		return nil
	}
	return r.occupy(ctx, w, s, room, full, nick, nil)
}

// occupy is presence for s from full to room as nick: a join, a presence
// update or leaving. a are its answers (nil: written at once with w).
func (r *rooms) occupy(ctx context.Context, w router.Writer, s *router.Stanza, room jid.JID, full, nick string, a *answers) error {
	_, inbox := r.c.Inbox(room.Localpart())
	if s.Type == "unavailable" {
		unlock := r.turns.order.lock(room.String())
		n, ok := r.joined.leave(room.String(), full)
		if ok && inbox {
			ctx, cancel := context.WithTimeout(ctx, storeTimeout)
			r.tellOthers(ctx, w, room, full, n, "unavailable")
			cancel()
		}
		unlock()
		if ok {
			w.Encode(selfPresence(room, n, full, "unavailable"))
		}
		return nil
	}
	join, err := readJoin(s)
	if err != nil {
		return err
	}
	bare := s.From.Bare().String()
	if !r.c.Allowed(bare) {
		return stanza.NewError("auth", "forbidden", bare+" may not use this gateway")
	}
	return r.join(ctx, w, room, join, bare, full, nick, inbox, a)
}

// join is presence for a join or a presence update of full (as nick, bare
// JID bare) in room, once allowed; join is its join element, or nil. a
// are its answers: a full JID new to the room, or joining it again, is
// sent nothing of the room before them (occupants.joiningOf). It seats
// full and reads the history under the room's lock (order.go).
func (r *rooms) join(ctx context.Context, w router.Writer, room jid.JID, join *stanza.MUCJoin, bare, full, nick string, inbox bool, a *answers) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	store, name := r.c.Store(), r.c.Name()
	key, subject, show, err := r.admit(ctx, room, bare)
	if err != nil {
		return err
	}
	// The nick becomes the user's in this room, for good: a member named
	// so later gets a suffix. One a member holds already is refused
	// (XEP-0045 7.2.9).
	if prev, was := r.joined.nick(room.String(), full); !was || prev != nick {
		ok, err := store.Rooms().ClaimUserNick(ctx, name, key, bare, nick)
		switch {
		case err != nil:
			return core.StoreError(err)
		case !ok:
			return stanza.NewError("cancel", "conflict", "a member of the group goes by that nick; choose another")
		}
	}
	unlock := r.turns.order.lock(room.String())
	defer unlock()
	was := r.joined.join(room.String(), full, nick, a, join != nil)
	r.joined.setSubject(room.String(), subject)
	if was && join == nil {
		w.Encode(selfPresence(room, nick, full, "")) // a presence update or a new nick
		return nil
	}
	members, err := store.Rooms().RoomMembers(ctx, name, key)
	if err != nil {
		r.c.Logger().Warn("reading a room's members failed", "room", key, "err", err)
	}
	if inbox {
		// The other members in the room are occupants too, and see this
		// one come.
		for _, o := range r.joined.others(room.String(), full) {
			if o.nick != nick && !slices.Contains(members, o.nick) {
				members = append(members, o.nick)
			}
		}
		r.tellOthers(ctx, w, room, full, nick, "")
	}
	for _, m := range members {
		if m == nick {
			continue
		}
		w.Encode(stanza.Presence{From: occupantJID(room, m), To: full,
			MUCUser: &stanza.MUCUser{Item: stanza.MUCItem{Affiliation: "member", Role: "participant"}}})
	}
	w.Encode(selfPresence(room, nick, full, ""))
	n := show
	if join != nil && join.History != nil && join.History.MaxStanzas != nil {
		n = min(max(*join.History.MaxStanzas, 0), n)
	}
	if n > 0 {
		history, err := store.Rooms().RoomHistory(ctx, name, key, n)
		if err != nil {
			r.c.Logger().Warn("reading a room's history failed", "room", key, "err", err)
		}
		for _, e := range history {
			m := stanza.Message{Type: "groupchat", ID: e.StanzaID, From: occupantJID(room, e.Sender), To: full, Body: e.Body,
				StanzaID: &stanza.StanzaID{ID: e.StanzaID, By: room.String()},
				Delay:    &stanza.Delay{Stamp: time.UnixMilli(e.Created).UTC().Format("2006-01-02T15:04:05.000Z"), From: room.String()}}
			if e.Replaces != "" {
				m.Replace = &stanza.Replace{ID: e.Replaces}
			}
			if e.OOB != "" {
				m.OOB = &stanza.OOB{URL: e.OOB}
			}
			w.Encode(m)
		}
	}
	w.Encode(stanza.Message{Type: "groupchat", From: room.String(), To: full, Subject: &subject})
	r.c.Logger().Info("user joined a room", "room", key, "jid", full)
	return nil
}

// tellOthers sends nick's presence (typ "" or "unavailable") in room to
// the room's other occupants than full, each by its route (order.go): not
// behind the answers of full's user, whose messages they see at once too;
// each after its own join's answers. w is the step's writer, for when the
// store's queue is no longer written. The caller holds the room's lock.
func (r *rooms) tellOthers(ctx context.Context, w router.Writer, room jid.JID, full, nick, typ string) {
	role := "participant"
	if typ == "unavailable" {
		role = "none"
	}
	c := r.copiesOf(room.String(), w)
	for _, o := range r.joined.others(room.String(), full) {
		c.to(o.full, nil, stanza.Presence{Type: typ, From: occupantJID(room, nick), To: o.full,
			MUCUser: &stanza.MUCUser{Item: stanza.MUCItem{Affiliation: "member", Role: role}}})
	}
	c.store(ctx)
}

// roomJID is the room of to (a room's or an occupant's JID), canonical: a
// group's address as the transport writes it, or a team inbox's.
func (r *rooms) roomJID(to jid.JID) (jid.JID, error) {
	if _, ok := r.c.Inbox(to.Localpart()); ok {
		return to.Bare(), nil
	}
	remote, err := r.c.Transport().ParseAddr(mapping.AddrOf(to))
	if err != nil {
		return jid.JID{}, stanza.NewError("modify", "jid-malformed", err.Error())
	}
	room, err := mapping.ContactJID(remote, r.c.Domain().Domainpart())
	if err != nil {
		return jid.JID{}, stanza.NewError("modify", "jid-malformed", err.Error())
	}
	return room, nil
}

// admitsOnline reports whether admit asks the network whether a user may
// join room (a group of the user's own account, transports.MemberRooms):
// then presences to the room, and the archive's queries, are answered off
// the read loop, which never waits on the network.
func (r *rooms) admitsOnline(room jid.JID) bool {
	if _, ok := r.c.Inbox(room.Localpart()); ok {
		return false
	}
	_, ok := r.c.Transport().(transports.MemberRooms)
	return ok
}

// admit checks that user may join room: the user a group is linked to, or
// a member of a team inbox. It returns the room's key in the store (a
// group's address, an inbox's room name), its subject, and how many of its
// last messages a join is sent.
func (r *rooms) admit(ctx context.Context, room jid.JID, user string) (key, subject string, show int, err error) {
	if box, ok := r.c.Inbox(room.Localpart()); ok {
		if !slices.Contains(box.Members, user) {
			return "", "", 0, stanza.NewError("auth", "registration-required",
				"this room is the team inbox of "+string(box.Account)+"; only its members may join")
		}
		return box.Room, "Team inbox " + string(box.Account), inboxJoinHistory, nil
	}
	remote := mapping.AddrOf(room)
	if m, ok := r.c.Transport().(transports.MemberRooms); ok {
		return r.admitMember(ctx, m, remote, user)
	}
	l, ok, err := r.c.Store().Links().LinkOf(ctx, r.c.Name(), remote)
	switch {
	case err != nil:
		return "", "", 0, core.StoreError(err)
	case !ok || l.User != user:
		// One answer whether the group is linked to another user or to
		// nobody: who has linked what is not for others to learn.
		return "", "", 0, stanza.NewError("cancel", "item-not-found", remote+" is not a "+r.c.Identity().Name+
			" group linked to "+user+"; send \"link\" to "+r.c.Domain().String()+" to link one")
	}
	subject = l.Name
	if subject == "" {
		subject = remote
	}
	return remote, subject, r.tr.RoomHistory(), nil
}

// admitMember is admit for a group of the user's own account
// (transports.MemberRooms): the user may join while a member.
func (r *rooms) admitMember(ctx context.Context, m transports.MemberRooms, remote, user string) (key, subject string, show int, err error) {
	title, ok, err := m.Member(ctx, user, transports.Addr(remote))
	switch {
	case err != nil:
		return "", "", 0, stanza.NewError("wait", "remote-server-timeout", "could not check the group's members: "+err.Error())
	case !ok:
		return "", "", 0, stanza.NewError("auth", "registration-required",
			"your "+r.c.Identity().Name+" account is not in the group "+remote)
	}
	if title == "" {
		title = remote
	}
	return remote, title, r.tr.RoomHistory(), nil
}

// readJoin reads the join element of s, if any: a bad value in it (a
// maxstanzas that is no number) refuses s with bad-request.
func readJoin(s *router.Stanza) (*stanza.MUCJoin, error) {
	j := new(stanza.MUCJoin)
	ok, err := s.DecodeChild(joinName, j)
	if !ok || err != nil {
		return nil, err
	}
	return j, nil
}

// selfPresence is the presence of the user's own occupant in room.
func selfPresence(room jid.JID, nick, full, typ string) stanza.Presence {
	item := stanza.MUCItem{Affiliation: "member", Role: "participant", JID: full}
	if typ == "unavailable" {
		item.Role = "none"
	}
	return stanza.Presence{Type: typ, From: occupantJID(room, nick), To: full,
		MUCUser: &stanza.MUCUser{Item: item, Status: []stanza.MUCStatus{{Code: 100}, {Code: 110}}}}
}

// noRoom refuses a join of a contact that is no group, at contact/nick
// (forbidden for a sender not allowed, as a join of a room is); a join
// element in a presence to a contact's bare JID is no join, and is
// ignored.
func (r *rooms) noRoom(_ context.Context, _ router.Writer, s *router.Stanza) error {
	if s.To.Resourcepart() == "" {
		return nil
	}
	if bare := s.From.Bare().String(); !r.c.Allowed(bare) {
		return stanza.NewError("auth", "forbidden", bare+" may not use this gateway")
	}
	return stanza.NewError("cancel", "item-not-found", "only a group can be joined as a room")
}

// bounced forgets the sender in the room of the stanza's recipient when the
// sender bounced a stanza from the room with an error: the client is gone
// (an error from an occupant removes it, XEP-0045 7.2.x), so the group is
// a contact again until it joins again.
func (r *rooms) bounced(_ context.Context, _ router.Writer, s *router.Stanza) error {
	room := s.To.Bare().String()
	r.c.Logger().Debug("error from XMPP", "from", s.From.String(), "stanza_id", s.ID)
	if _, ok := r.joined.leave(room, s.From.String()); ok {
		r.c.Logger().Info("a room occupant bounced a stanza; removed", "room", room, "jid", s.From.String())
	}
	return nil
}
