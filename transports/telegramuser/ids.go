package telegramuser

import (
	"strconv"
	"strings"
)

// ref names a message in an account's box. Private chats and basic groups
// share one id sequence per account; a channel (or supergroup) numbers its
// messages itself, so its ids are only unique with the channel.
type ref struct {
	channel int64 // 0 outside channels
	id      int
}

// String is the ref as the account's provider ids and media URLs write it:
// "ID", or "cCHANNEL:ID".
func (r ref) String() string {
	if r.channel == 0 {
		return strconv.Itoa(r.id)
	}
	return "c" + strconv.FormatInt(r.channel, 10) + ":" + strconv.Itoa(r.id)
}

// parseRef reads a ref's String back; anything else (another spelling
// included) is not one.
func parseRef(s string) (ref, bool) {
	var r ref
	idPart := s
	if rest, ok := strings.CutPrefix(s, "c"); ok {
		ch, id, ok := strings.Cut(rest, ":")
		n, err := strconv.ParseInt(ch, 10, 64)
		if !ok || err != nil || n <= 0 {
			return ref{}, false
		}
		r.channel, idPart = n, id
	}
	n, err := strconv.Atoi(idPart)
	if err != nil || n <= 0 {
		return ref{}, false
	}
	r.id = n
	return r, r.String() == s
}

// msgID is the provider id of a message in the account's box: message ids
// are the account's own, so the account's id is part of it.
func (a *account) msgID(r ref) string {
	return string(a.addr()) + ":" + r.String()
}

// boxID reads a msgID of this account back.
func (a *account) boxID(remote string) (ref, bool) {
	rest, ok := strings.CutPrefix(remote, string(a.addr())+":")
	if !ok || a.addr() == "" {
		return ref{}, false
	}
	return parseRef(rest)
}

// refTo reads remote, a msgID of this account, as a message of the chat
// pr: a channel's message only in that channel, another only outside
// channels.
func (a *account) refTo(pr peer, remote string) (ref, bool) {
	r, ok := a.boxID(remote)
	return r, ok && r.channel == pr.channel
}
