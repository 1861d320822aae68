package telegram

import (
	"fmt"
	"strconv"
	"strings"

	"xmppgw/transports"
)

// ParseChatID validates a Telegram chat id ("123456789", "-1001234567890")
// and returns it in canonical form.
func ParseChatID(s string) (string, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n == 0 || strconv.FormatInt(n, 10) != t { // no "+", no leading zeros
		return "", fmt.Errorf("%q is not a Telegram chat id (want a number such as 123456789, or -100... for a group)", s)
	}
	return strconv.FormatInt(n, 10), nil
}

// ParseAddr implements transports.Transport: an address is a chat id.
func (t *Transport) ParseAddr(s string) (transports.Addr, error) {
	id, err := ParseChatID(s)
	return transports.Addr(id), err
}

// chatID is the numeric id of a parsed address.
func chatID(a transports.Addr) int64 {
	n, _ := strconv.ParseInt(string(a), 10, 64)
	return n
}

// isGroup reports whether a chat id is a group's (groups are negative).
func isGroup(id int64) bool { return id < 0 }

var _ transports.Rooms = (*Transport)(nil)

// IsRoom reports whether chat is a group (or channel): their ids are
// negative, a person's positive.
func (t *Transport) IsRoom(chat transports.Addr) bool {
	return strings.HasPrefix(string(chat), "-")
}

// RoomHistory implements transports.Rooms: settings' room_history.
func (t *Transport) RoomHistory() int { return *t.s.RoomHistory }
