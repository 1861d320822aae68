package botfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// reactionEmoji are the emoji Telegram accepts as reactions (the Bot API's
// ReactionTypeEmoji list); others are refused with REACTION_INVALID.
var reactionEmoji = map[string]bool{}

func init() {
	for _, e := range strings.Fields("👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡") {
		reactionEmoji[e] = true
	}
}

// Reaction is one successful setMessageReaction call: the bot's reaction
// set on a message ("" when it removed it).
type Reaction struct {
	ChatID    int64
	MessageID int
	Emoji     string
}

// Reactions returns the setMessageReaction calls so far, in order.
func (f *Fake) Reactions() []Reaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Reaction(nil), f.reacted...)
}

// setMessageReaction takes chat_id, message_id and reaction, a JSON array
// of ReactionType: a bot may set at most one.
func (f *Fake) setMessageReaction(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	cs, e := f.targetLocked(p, true)
	if e != nil {
		f.mu.Unlock()
		return nil, e
	}
	id, e := messageIDParam(p, "message to react not found")
	if e == nil && cs.msgs[id] == nil {
		e = badRequest("message to react not found")
	}
	chat := cs.chat.ID
	f.mu.Unlock()
	if e != nil {
		return nil, e
	}
	var set []struct {
		Type  string `json:"type"`
		Emoji string `json:"emoji"`
	}
	if raw := strings.TrimSpace(p["reaction"]); raw != "" {
		if err := json.Unmarshal([]byte(raw), &set); err != nil {
			return nil, badRequest("can't parse reaction types JSON object")
		}
	}
	if len(set) > 1 {
		return nil, badRequest("REACTIONS_TOO_MANY")
	}
	r := Reaction{ChatID: chat, MessageID: id}
	if len(set) == 1 {
		if set[0].Type != "emoji" || !reactionEmoji[set[0].Emoji] {
			return nil, badRequest("REACTION_INVALID")
		}
		r.Emoji = set[0].Emoji
	}
	f.mu.Lock()
	f.reacted = append(f.reacted, r)
	f.notifyLocked()
	f.mu.Unlock()
	return true, nil
}

// UserReacts queues a message_reaction update: from sets emoji (none: no
// reaction) on message messageID of chat c. Like Telegram, it is only
// delivered if allowed_updates asks for message_reaction.
func (f *Fake) UserReacts(c Chat, from User, messageID int, emoji ...string) {
	type reactionType struct {
		Type  string `json:"type"`
		Emoji string `json:"emoji"`
	}
	newSet := []reactionType{}
	for _, e := range emoji {
		newSet = append(newSet, reactionType{"emoji", e})
	}
	u := map[string]any{"message_reaction": map[string]any{
		"chat": normalizeChat(c), "message_id": messageID, "user": from,
		"date": time.Now().Unix(), "old_reaction": []reactionType{}, "new_reaction": newSet,
	}}
	raw, err := json.Marshal(u)
	if err != nil {
		panic("botfake: " + err.Error())
	}
	f.PushUpdate(raw)
}
