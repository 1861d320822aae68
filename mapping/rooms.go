package mapping

import (
	"context"
	"fmt"
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
func (s *Store) AcceptRoom(ctx context.Context, transport, key string, entries []RoomEntry, keep int, stanzas ...[]byte) (ids []int64, dup bool, err error) {
	return s.acceptIDs(ctx, transport, key, func(tx *sqlTx, now int64) error {
		rooms := map[string]bool{}
		for _, e := range entries {
			rooms[e.Room] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO room_history
				(transport, room, sender, stanza_id, body, oob, replaces, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				transport, e.Room, e.Sender, e.StanzaID, e.Body, e.OOB, e.Replaces, now); err != nil {
				return err
			}
			if e.Sender == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO room_members (transport, room, name, seen) VALUES (?, ?, ?, ?)
				ON CONFLICT (transport, room, name) DO UPDATE SET seen = excluded.seen`,
				transport, e.Room, e.Sender, now); err != nil {
				return err
			}
		}
		for room := range rooms {
			if _, err := tx.ExecContext(ctx, `DELETE FROM room_history WHERE transport = ? AND room = ? AND id <=
				(SELECT id FROM room_history WHERE transport = ? AND room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
				transport, room, transport, room, keep); err != nil {
				return err
			}
		}
		return nil
	}, stanzas...)
}

// RoomHistory returns the last n entries of room, oldest first.
func (s *Store) RoomHistory(ctx context.Context, transport, room string, n int) ([]RoomEntry, error) {
	rows, err := s.query(ctx, `SELECT sender, stanza_id, body, oob, replaces, created FROM room_history
		WHERE transport = ? AND room = ? ORDER BY id DESC LIMIT ?`, transport, room, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	var out []RoomEntry
	for rows.Next() {
		e := RoomEntry{Room: room}
		if err := rows.Scan(&e.Sender, &e.StanzaID, &e.Body, &e.OOB, &e.Replaces, &e.Created); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// RoomMembers returns the names of the members seen speaking in room,
// sorted.
func (s *Store) RoomMembers(ctx context.Context, transport, room string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT name FROM room_members WHERE transport = ? AND room = ? ORDER BY name`, transport, room)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return out, nil
}

// KeepOwnRoomMessage keeps the user's own message e (Sender is the user's
// nick) in its room's history, trimmed to the last keep, without making
// the user a member. It is written after the message's job is queued, in
// a transaction of its own: a resend of a stanza id already kept from the
// same nick is kept once.
func (s *Store) KeepOwnRoomMessage(ctx context.Context, transport string, e RoomEntry, keep int) error {
	now := s.millis()
	return s.tx(ctx, func(tx *sqlTx) error {
		if e.StanzaID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM room_history WHERE transport = ? AND room = ? AND sender = ? AND stanza_id = ?`,
				transport, e.Room, e.Sender, e.StanzaID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO room_history
			(transport, room, sender, stanza_id, body, oob, replaces, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			transport, e.Room, e.Sender, e.StanzaID, e.Body, e.OOB, e.Replaces, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM room_history WHERE transport = ? AND room = ? AND id <=
			(SELECT id FROM room_history WHERE transport = ? AND room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
			transport, e.Room, transport, e.Room, keep)
		return err
	})
}
