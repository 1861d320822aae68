package telegramuser

import (
	"context"
	"errors"
	"strings"

	"xmppgw/transports"
)

var (
	_ transports.Rooms       = (*Transport)(nil)
	_ transports.MemberRooms = (*Transport)(nil)
)

// roomHistory is how many of a group's last messages are kept and replayed
// when the user joins its room.
const roomHistory = 20

// IsRoom implements transports.Rooms: a basic group ("-ID").
func (t *Transport) IsRoom(remote transports.Addr) bool {
	return strings.HasPrefix(string(remote), "-")
}

// RoomHistory implements transports.Rooms.
func (t *Transport) RoomHistory() int { return roomHistory }

// Member implements transports.MemberRooms: the group is among the
// dialogs of user's account. While a stored session resumes, it answers a
// temporary error.
func (t *Transport) Member(ctx context.Context, user string, group transports.Addr) (string, bool, error) {
	a := t.account(user)
	if a == nil || a.self.Load() == 0 {
		if t.loggedIn(user, a) {
			// A stored session still resuming: not known yet.
			return "", false, &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram",
				Message: "the Telegram session is starting; try again in a moment"}
		}
		return "", false, nil
	}
	if _, err := a.resolve(ctx, group); err != nil {
		var te *transports.Error
		if errors.As(err, &te) && te.Kind == transports.KindInvalidAddress {
			return "", false, nil // not among the account's chats
		}
		return "", false, err
	}
	return a.peers.name(group), true, nil
}
