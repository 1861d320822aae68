package botfake

import (
	"net/http"
	"strconv"
	"strings"
)

// joinLocked makes u a member of the chat, if it was not one.
func (cs *chatState) joinLocked(u User) {
	if _, ok := cs.members[u.ID]; !ok {
		cs.members[u.ID] = ChatMember{User: u, Status: "member"}
	}
}

// SetMemberStatus sets a user's status in chat c, as getChatMember
// answers it: "creator", "administrator", "member", "restricted", "left" or
// "kicked". It makes the chat and the member known.
func (f *Fake) SetMemberStatus(c Chat, u User, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.chatLocked(c)
	cs.members[u.ID] = ChatMember{User: u, Status: status}
	f.notifyLocked()
}

// getChatMember takes chat_id and user_id. A user who never wrote in the
// chat, and was given no status, is "Bad Request: user not found"; so is
// anyone in a private chat but its user and the bot.
func (f *Fake) getChatMember(_ *http.Request, p params) (any, *apiError) {
	raw := strings.TrimSpace(p["user_id"])
	if raw == "" {
		return nil, badRequest("user_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("invalid user_id specified")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, e := f.targetLocked(p, true)
	if e != nil {
		return nil, e
	}
	if m, ok := cs.members[id]; ok {
		return m, nil
	}
	switch bot := f.bot(); {
	case id == bot.ID:
		return ChatMember{User: bot, Status: "member"}, nil
	case cs.chat.Type == "private" && id == cs.chat.ID:
		return ChatMember{User: User{ID: id, FirstName: cs.chat.FirstName, LastName: cs.chat.LastName, Username: cs.chat.Username}, Status: "member"}, nil
	}
	return nil, badRequest("user not found")
}
