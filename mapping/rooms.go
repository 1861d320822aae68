package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	insertRoomEntry = `INSERT INTO room_history
		(transport, room, sender, stanza_id, body, oob, replaces, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	upsertRoomMember = `INSERT INTO room_members (transport, room, name, seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (transport, room, name) DO UPDATE SET seen = excluded.seen`
	trimRoomHistory = `DELETE FROM room_history WHERE transport = ? AND room = ? AND id <=
		(SELECT id FROM room_history WHERE transport = ? AND room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`
	selectRoomHistory = `SELECT sender, stanza_id, body, oob, replaces, created FROM room_history
		WHERE transport = ? AND room = ? ORDER BY id DESC LIMIT ?`
	selectRoomMembers = `SELECT name FROM room_members WHERE transport = ? AND room = ?
		AND member NOT LIKE 'xmpp:%' ORDER BY name`
	countRoomEntry  = `SELECT COUNT(*) FROM room_history WHERE transport = ? AND room = ? AND sender = ? AND stanza_id = ? AND body = ?`
	selectRoomEntry = `SELECT sender, stanza_id, body, oob, replaces, created FROM room_history
		WHERE transport = ? AND room = ? AND stanza_id = ? ORDER BY id DESC LIMIT 1`
	selectNickHolder = `SELECT member FROM room_members WHERE transport = ? AND room = ? AND name = ?`
	upsertNickClaim  = `INSERT INTO room_members (transport, room, name, member, seen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (transport, room, name) DO UPDATE SET member = excluded.member
		WHERE room_members.member = '' OR room_members.member = excluded.member`
)

// RoomEntry is one message of a group shown as an XEP-0045 room, kept for
// the history replayed when the user joins.
type RoomEntry struct {
	Room     string // the group's address
	Sender   string // the member's display name, "" for the group itself
	StanzaID string
	Body     string
	OOB      string // an attachment's URL, or ""
	Replaces string // the stanza id an edit corrects, or ""
	Created  int64  // unix milliseconds; set by the store
}

// AcceptRoom is AcceptIDs for a group's message: in the same transaction
// it keeps entries in their room's history, trimmed to the last keep, and
// records their senders as the room's members.
func (h RoomTable) AcceptRoom(ctx context.Context, transport, key string, entries []RoomEntry, keep int, stanzas ...[]byte) (ids []int64, dup bool, err error) {
	s := h.s
	return s.acceptIDs(ctx, transport, key, func(tx *sqlTx, now int64) error {
		rooms := map[string]bool{}
		for _, e := range entries {
			rooms[e.Room] = true
			if _, err := tx.ExecContext(ctx, insertRoomEntry,
				transport, e.Room, e.Sender, e.StanzaID, e.Body, e.OOB, e.Replaces, now); err != nil {
				return err
			}
			if e.Sender == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, upsertRoomMember,
				transport, e.Room, e.Sender, now); err != nil {
				return err
			}
		}
		for room := range rooms {
			if _, err := tx.ExecContext(ctx, trimRoomHistory,
				transport, room, transport, room, keep); err != nil {
				return err
			}
		}
		return nil
	}, stanzas...)
}

// RoomHistory returns the last n entries of room, oldest first.
func (h RoomTable) RoomHistory(ctx context.Context, transport, room string, n int) ([]RoomEntry, error) {
	s := h.s
	out, err := queryAll(ctx, s.query, func(r *sql.Rows, e *RoomEntry) error {
		e.Room = room
		return r.Scan(&e.Sender, &e.StanzaID, &e.Body, &e.OOB, &e.Replaces, &e.Created)
	}, selectRoomHistory, transport, room, n)
	if err != nil {
		return nil, unavailable(err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// RoomMembers returns the nicks of the members seen speaking in room,
// sorted. Nicks the user took (ClaimUserNick) are not members.
func (h RoomTable) RoomMembers(ctx context.Context, transport, room string) ([]string, error) {
	s := h.s
	out, err := queryAll(ctx, s.query, scanValue[string], selectRoomMembers, transport, room)
	return out, unavailable(err)
}

// KeepOwnRoomMessage keeps the user's own message e (Sender is the user's
// nick) in its room's history, trimmed to the last keep, without making
// the user a member, and queues stanzas for XMPP (its copies for the
// room's occupants), in one transaction: the history's order is the
// queue's. It is written after the message's job is queued, in a
// transaction of its own. A message resent (its job was found queued
// already: the same stanza id and content within the resend window) is
// kept unless an entry of the same nick, stanza id and body is kept: the
// first delivery may have been cut short between its job and its entry.
// Any other message is kept, whatever its stanza id: simple clients
// number ids from 1 on each connection.
func (h RoomTable) KeepOwnRoomMessage(ctx context.Context, transport string, e RoomEntry, keep int, resent bool, stanzas ...[]byte) error {
	s := h.s
	now := s.millis()
	return s.tx(ctx, func(tx *sqlTx) error {
		var kept int
		if resent {
			if err := tx.QueryRowContext(ctx, countRoomEntry,
				transport, e.Room, e.Sender, e.StanzaID, e.Body).Scan(&kept); err != nil {
				return err
			}
		}
		if kept == 0 {
			if _, err := tx.ExecContext(ctx, insertRoomEntry,
				transport, e.Room, e.Sender, e.StanzaID, e.Body, e.OOB, e.Replaces, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, trimRoomHistory,
				transport, e.Room, transport, e.Room, keep); err != nil {
				return err
			}
		}
		for _, st := range stanzas {
			if err := queueStanza(ctx, tx, transport, st, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// A room's nicks are unique: each row of room_members is a nick held by
// one member (the network's id of them) or by the linked XMPP user
// ("xmpp:" and the bare JID, a nick the user joined under). A nick held by
// "" (kept before members' ids were) goes to the first member who claims
// it.

// userHolder is how a nick held by the XMPP user user is recorded.
func userHolder(user string) string { return "xmpp:" + user }

// memberHolder is how a nick held by a member is recorded: never like a
// user's.
func memberHolder(member string) string {
	if strings.HasPrefix(member, "xmpp:") {
		return "member:" + member
	}
	return member
}

// claimNick gives nick in room to holder, unless someone else holds it,
// and reports whether holder holds it now.
func claimNick(ctx context.Context, tx *sqlTx, transport, room, nick, holder string, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, upsertNickClaim,
		transport, room, nick, holder, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RoomNick returns the nick of a member (the network's stable id of them,
// "" if it gave none) whose name is name, in room, and records it as the
// member's: name itself if nobody else holds it, or else name with the
// first suffix " (2)", " (3)", ... that is free or already the member's.
// So two members of the same name, or a member named like the user's
// nick, get different nicks, and each keeps its own while its name stays.
func (h RoomTable) RoomNick(ctx context.Context, transport, room, member, name string) (string, error) {
	s := h.s
	holder := memberHolder(member)
	var nick string
	err := s.tx(ctx, func(tx *sqlTx) error {
		now := s.millis()
		for k := 1; ; k++ {
			nick = name
			if k > 1 {
				nick = fmt.Sprintf("%s (%d)", name, k)
			}
			ok, err := claimNick(ctx, tx, transport, room, nick, holder, now)
			if err != nil || ok {
				return err
			}
		}
	})
	if err != nil {
		return "", err
	}
	return nick, nil
}

// ClaimUserNick records nick as the XMPP user's in room, unless a member
// holds it, and reports whether the user holds it now. The user keeps it:
// a member named so later gets a suffix (RoomNick).
func (h RoomTable) ClaimUserNick(ctx context.Context, transport, room, user, nick string) (bool, error) {
	s := h.s
	var ok bool
	err := s.tx(ctx, func(tx *sqlTx) error {
		var err error
		ok, err = claimNick(ctx, tx, transport, room, nick, userHolder(user), s.millis())
		return err
	})
	return ok, err
}

// RoomEntryOf returns the last entry of room's history with stanzaID, if
// the history still holds one.
func (h RoomTable) RoomEntryOf(ctx context.Context, transport, room, stanzaID string) (RoomEntry, bool, error) {
	e := RoomEntry{Room: room}
	err := h.s.queryRow(ctx, selectRoomEntry, transport, room, stanzaID).Scan(&e.Sender, &e.StanzaID, &e.Body, &e.OOB, &e.Replaces, &e.Created)
	if err == sql.ErrNoRows {
		return RoomEntry{}, false, nil
	}
	if err != nil {
		return RoomEntry{}, false, unavailable(err)
	}
	return e, true, nil
}

// NickHolder returns the member (the network's id of them, as RoomNick
// took it) who holds nick in room; "" and false for a nick nobody holds or
// a user's (ClaimUserNick).
func (h RoomTable) NickHolder(ctx context.Context, transport, room, nick string) (string, bool, error) {
	var holder string
	err := h.s.queryRow(ctx, selectNickHolder, transport, room, nick).Scan(&holder)
	switch {
	case err == sql.ErrNoRows:
		return "", false, nil
	case err != nil:
		return "", false, unavailable(err)
	case strings.HasPrefix(holder, "xmpp:") || holder == "":
		return "", false, nil
	}
	return strings.TrimPrefix(holder, "member:"), true, nil
}
