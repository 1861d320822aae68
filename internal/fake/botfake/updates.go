package botfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	maxUpdatesLimit = 100
	maxPollSeconds  = 50
)

// defaultExcluded are the update types Telegram leaves out unless
// allowed_updates asks for them.
var defaultExcluded = map[string]bool{
	"chat_member": true, "message_reaction": true, "message_reaction_count": true,
}

// queuedUpdate is an update not yet confirmed (or delivered to a webhook).
type queuedUpdate struct {
	id   int
	kind string // "message", "edited_message", ...
	raw  json.RawMessage
}

// UserSends delivers a text message from a user in chat c and returns it
// as delivered. In a channel it becomes a channel_post from the chat.
func (f *Fake) UserSends(c Chat, from User, text string) Message {
	return f.userMessage(c, from, func(m *Message) { m.Text = text })
}

// UserReplies is UserSends answering message to (reply_to_message), as a
// Telegram client's "Reply" does.
func (f *Fake) UserReplies(c Chat, from User, text string, to Message) Message {
	return f.userMessage(c, from, func(m *Message) {
		m.Text = text
		r := to
		r.ReplyToMessage = nil // Telegram does not nest replies
		m.ReplyToMessage = &r
	})
}

// userMessage registers a new message in c, lets fill complete it (with
// f.mu held), queues its update and returns it.
func (f *Fake) userMessage(c Chat, from User, fill func(*Message)) Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.userMessageLocked(c, from, fill)
}

func (f *Fake) userMessageLocked(c Chat, from User, fill func(*Message)) Message {
	c = normalizeChat(c)
	if c.Type == "private" && c.ID == from.ID && c.FirstName == "" {
		c.FirstName, c.LastName, c.Username = from.FirstName, from.LastName, from.Username
	}
	cs := f.chatLocked(c)
	cs.lastID++
	m := &Message{MessageID: cs.lastID, Date: time.Now().Unix(), Chat: cs.chat}
	kind := "message"
	if cs.chat.Type == "channel" {
		kind = "channel_post"
		sc := cs.chat
		m.SenderChat = &sc
	} else {
		u := from
		m.From = &u
		cs.joinLocked(from)
	}
	fill(m)
	cs.msgs[m.MessageID] = m
	u := Update{}
	out := m.clone()
	if kind == "channel_post" {
		u.ChannelPost = &out
	} else {
		u.Message = &out
	}
	f.enqueueLocked(kind, u)
	return m.clone()
}

// UserEdits changes the text of a message a user sent earlier and delivers
// an edited_message (edited_channel_post in a channel) update.
func (f *Fake) UserEdits(c Chat, from User, messageID int, text string) Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.chatLocked(c)
	m := cs.msgs[messageID]
	if m == nil { // unknown to the fake: make it up
		m = &Message{MessageID: messageID, Date: time.Now().Unix(), Chat: cs.chat}
		if cs.chat.Type != "channel" {
			u := from
			m.From = &u
		}
		cs.msgs[messageID] = m
		cs.lastID = max(cs.lastID, messageID)
	}
	if m.Caption != "" || m.Photo != nil || m.Document != nil || m.Voice != nil {
		m.Caption = text
	} else {
		m.Text = text
	}
	m.EditDate = max(time.Now().Unix(), m.Date)
	out := m.clone()
	var u Update
	kind := "edited_message"
	if cs.chat.Type == "channel" {
		kind = "edited_channel_post"
		u.EditedChannelPost = &out
	} else {
		u.EditedMessage = &out
	}
	f.enqueueLocked(kind, u)
	return m.clone()
}

// BotStatusChanged delivers a my_chat_member update: user by changed the
// bot's status in c (for example from "member" to "kicked"). It does not
// make later calls fail; use Kick for that.
func (f *Fake) BotStatusChanged(c Chat, by User, oldStatus, newStatus string) Update {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.chatLocked(c)
	u := Update{MyChatMember: &ChatMemberUpdated{
		Chat:          cs.chat,
		From:          by,
		Date:          time.Now().Unix(),
		OldChatMember: ChatMember{User: f.bot(), Status: oldStatus},
		NewChatMember: ChatMember{User: f.bot(), Status: newStatus},
	}}
	u.UpdateID = f.enqueueLocked("my_chat_member", u)
	return u
}

// PushUpdate queues any update body, a JSON object such as
// {"callback_query":{...}}. Its update_id is assigned by the fake. Chats
// and messages in it become known. It panics if raw is not a JSON object.
func (f *Fake) PushUpdate(raw json.RawMessage) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		panic(fmt.Sprintf("botfake: PushUpdate: not a JSON object: %v", err))
	}
	kind := ""
	for k := range obj {
		if k != "update_id" {
			kind = k
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range []string{"message", "edited_message", "channel_post", "edited_channel_post"} {
		var m Message
		if body, ok := obj[k]; ok && json.Unmarshal(body, &m) == nil && m.Chat.ID != 0 {
			cs := f.chatLocked(m.Chat)
			if m.MessageID > 0 {
				stored := m.clone()
				stored.Chat = cs.chat
				cs.msgs[m.MessageID] = &stored
				cs.lastID = max(cs.lastID, m.MessageID)
			}
		}
	}
	f.enqueueRawLocked(kind, obj)
}

// enqueueLocked numbers u and queues it unless allowed_updates filters its
// kind out. It returns the update_id, 0 if filtered.
func (f *Fake) enqueueLocked(kind string, u Update) int {
	if !f.allowedLocked(kind) {
		return 0
	}
	u.UpdateID = f.nextUpdateID
	raw, err := marshal(u)
	if err != nil {
		panic("botfake: " + err.Error()) // our own types always encode
	}
	f.pushLocked(kind, raw)
	return u.UpdateID
}

func (f *Fake) enqueueRawLocked(kind string, obj map[string]json.RawMessage) {
	if !f.allowedLocked(kind) {
		return
	}
	obj["update_id"] = json.RawMessage(fmt.Sprint(f.nextUpdateID))
	raw, err := marshal(obj)
	if err != nil {
		panic("botfake: " + err.Error())
	}
	f.pushLocked(kind, raw)
}

func (f *Fake) pushLocked(kind string, raw json.RawMessage) {
	f.queue = append(f.queue, queuedUpdate{id: f.nextUpdateID, kind: kind, raw: raw})
	f.nextUpdateID++
	f.notifyLocked()
}

func (f *Fake) allowedLocked(kind string) bool {
	if f.allowed == nil {
		return !defaultExcluded[kind]
	}
	return f.allowed[kind]
}

// setAllowedLocked applies an allowed_updates parameter, if one was given:
// a JSON array of update types; an empty one restores the default.
func (f *Fake) setAllowedLocked(p params) {
	raw, ok := p["allowed_updates"]
	if !ok || strings.TrimSpace(raw) == "" {
		return
	}
	var kinds []string
	if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
		return // Telegram ignores what it cannot parse
	}
	if len(kinds) == 0 {
		f.allowed = nil
		return
	}
	f.allowed = map[string]bool{}
	for _, k := range kinds {
		f.allowed[k] = true
	}
}

// Pending returns how many updates are neither confirmed nor delivered.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// confirmLocked forgets what an offset confirms: every update below a
// positive offset, or all but the last -offset updates.
func (f *Fake) confirmLocked(offset int) {
	drop := 0
	switch {
	case offset > 0:
		for drop < len(f.queue) && f.queue[drop].id < offset {
			drop++
		}
	case offset < 0:
		drop = max(len(f.queue)+offset, 0)
	}
	if drop > 0 {
		f.queue = append([]queuedUpdate(nil), f.queue[drop:]...)
		f.notifyLocked()
	}
}

func (f *Fake) removeUpdateLocked(id int) {
	for i, u := range f.queue {
		if u.id == id {
			f.queue = append(f.queue[:i:i], f.queue[i+1:]...)
			return
		}
	}
}

var (
	errWebhookActive = &apiError{Code: http.StatusConflict,
		Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errTerminated = &apiError{Code: http.StatusConflict,
		Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
)

func (f *Fake) getUpdates(r *http.Request, p params) (any, *apiError) {
	offset, _ := p.int("offset")
	limit, ok := p.int("limit")
	if !ok || limit < 1 || limit > maxUpdatesLimit {
		limit = maxUpdatesLimit
	}
	timeout, _ := p.int("timeout")
	timeout = min(max(timeout, 0), maxPollSeconds)

	f.mu.Lock()
	defer f.mu.Unlock()
	f.offsets = append(f.offsets, offset)
	f.notifyLocked()
	if f.hook.url != "" {
		return nil, errWebhookActive
	}
	f.pollSeq++
	seq := f.pollSeq
	f.setAllowedLocked(p)
	f.confirmLocked(offset)

	timer := time.NewTimer(time.Duration(timeout) * time.Second)
	defer timer.Stop()
	expired := timeout == 0
	for {
		switch {
		case f.hook.url != "":
			return nil, errWebhookActive
		case f.pollSeq != seq:
			return nil, errTerminated
		}
		out := make([]json.RawMessage, 0, min(limit, len(f.queue)))
		for _, u := range f.queue[:min(limit, len(f.queue))] {
			out = append(out, u.raw)
		}
		if len(out) > 0 || expired || f.closed {
			return out, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			expired = true
		case <-r.Context().Done():
			expired = true
		case <-f.ctx.Done():
			expired = true
		}
		f.mu.Lock()
	}
}
