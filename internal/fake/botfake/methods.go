package botfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// maxTextUTF16 is Telegram's limit on a message's text, in UTF-16 code units.
const maxTextUTF16 = 4096

// chatActions are the actions sendChatAction accepts.
var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

// botInfo is getMe's answer: the bot's User plus its capabilities.
type botInfo struct {
	User
	CanJoinGroups           bool `json:"can_join_groups"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool `json:"supports_inline_queries"`
}

func (f *Fake) getMe(*http.Request, params) (any, *apiError) {
	return botInfo{User: f.bot(), CanJoinGroups: true}, nil
}

// targetLocked resolves chat_id (a number or "@username") to a known chat.
// With guarded set, a chat the bot was removed from answers 403.
func (f *Fake) targetLocked(p params, guarded bool) (*chatState, *apiError) {
	raw := strings.TrimSpace(p["chat_id"])
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	var cs *chatState
	if name, ok := strings.CutPrefix(raw, "@"); ok {
		for _, c := range f.chats {
			if name != "" && strings.EqualFold(c.chat.Username, name) {
				cs = c
				break
			}
		}
	} else if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if to, ok := f.migrated[id]; ok {
			return nil, &apiError{Code: http.StatusBadRequest, MigrateTo: to,
				Description: "Bad Request: group chat was upgraded to a supergroup chat"}
		}
		if desc, ok := f.kicked[id]; ok && guarded {
			return nil, &apiError{Code: http.StatusForbidden, Description: desc}
		}
		cs = f.chats[id]
	}
	if cs == nil {
		return nil, badRequest("chat not found")
	}
	if desc, ok := f.kicked[cs.chat.ID]; ok && guarded {
		return nil, &apiError{Code: http.StatusForbidden, Description: desc}
	}
	return cs, nil
}

// checkText applies Telegram's rules for a message text.
func checkText(text string) *apiError {
	if strings.TrimSpace(text) == "" {
		return badRequest("message text is empty")
	}
	if utf16Len(text) > maxTextUTF16 {
		return badRequest("message is too long")
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1) // invalid runes count as one, like U+FFFD
	}
	return n
}

func checkParseMode(mode string) *apiError {
	switch strings.ToLower(mode) {
	case "", "markdown", "markdownv2", "html":
		return nil
	}
	return badRequest("unsupported parse_mode")
}

// editTargetLocked is the chat and message an edit method names
// (chat_id, message_id); inline messages are not faked.
func (f *Fake) editTargetLocked(p params) (*chatState, int, *apiError) {
	if p["inline_message_id"] != "" && p["chat_id"] == "" {
		return nil, 0, badRequest("message to edit not found")
	}
	cs, e := f.targetLocked(p, true)
	if e != nil {
		return nil, 0, e
	}
	id, e := messageIDParam(p, "message to edit not found")
	if e != nil {
		return nil, 0, e
	}
	return cs, id, nil
}

// ownMessageLocked is message id of cs for an edit: one the bot sent.
func (f *Fake) ownMessageLocked(cs *chatState, id int) (*Message, *apiError) {
	m := cs.msgs[id]
	if m == nil {
		return nil, badRequest("message to edit not found")
	}
	if m.From == nil || m.From.ID != f.bot().ID {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

// messageIDParam reads message_id; what names the error for a bad one.
func messageIDParam(p params, what string) (int, *apiError) {
	if strings.TrimSpace(p["message_id"]) == "" {
		return 0, badRequest("message identifier is not specified")
	}
	id, ok := p.int("message_id")
	if !ok {
		return 0, badRequest(what)
	}
	return id, nil
}

func (f *Fake) sendMessage(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, e := f.targetLocked(p, true)
	if e != nil {
		return nil, e
	}
	text := p["text"]
	if e := checkText(text); e != nil {
		return nil, e
	}
	if e := checkParseMode(p["parse_mode"]); e != nil {
		return nil, e
	}
	var reply *Message
	if strings.TrimSpace(p["reply_to_message_id"]) != "" {
		id, _ := p.int("reply_to_message_id")
		if orig := cs.msgs[id]; orig != nil {
			r := orig.clone()
			r.ReplyToMessage = nil // Telegram does not nest replies
			reply = &r
		} else if !p.bool("allow_sending_without_reply") {
			return nil, badRequest("message to be replied not found")
		}
	}
	bot := f.bot()
	cs.lastID++
	m := &Message{
		MessageID:           cs.lastID,
		From:                &bot,
		Date:                time.Now().Unix(),
		Chat:                cs.chat,
		ReplyToMessage:      reply,
		Text:                text,
		ParseMode:           p["parse_mode"],
		DisableNotification: p.bool("disable_notification"),
		replyMarkup:         p["reply_markup"],
	}
	cs.msgs[m.MessageID] = m
	f.sent = append(f.sent, m)
	f.notifyLocked()
	return m.clone(), nil
}

func (f *Fake) editMessageText(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, id, e := f.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	text := p["text"]
	if e := checkText(text); e != nil {
		return nil, e
	}
	if e := checkParseMode(p["parse_mode"]); e != nil {
		return nil, e
	}
	m, e := f.ownMessageLocked(cs, id)
	if e != nil {
		return nil, e
	}
	if m.hasMedia() {
		// A photo's, a document's or a voice note's caption is changed
		// with editMessageCaption.
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.Text == text && m.ParseMode == p["parse_mode"] && m.replyMarkup == p["reply_markup"] {
		return nil, badRequest("message is not modified: specified new message content and reply markup " +
			"are exactly the same as a current content and reply markup of the message")
	}
	m.Text, m.ParseMode, m.replyMarkup = text, p["parse_mode"], p["reply_markup"]
	m.EditDate = time.Now().Unix()
	f.edits = append(f.edits, Edit{ChatID: cs.chat.ID, MessageID: id, Text: text})
	f.notifyLocked()
	return m.clone(), nil
}

func (f *Fake) deleteMessage(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, e := f.targetLocked(p, true)
	if e != nil {
		return nil, e
	}
	id, e := messageIDParam(p, "message to delete not found")
	if e != nil {
		return nil, e
	}
	if cs.msgs[id] == nil {
		return nil, badRequest("message to delete not found")
	}
	delete(cs.msgs, id)
	f.deleted = append(f.deleted, Deleted{ChatID: cs.chat.ID, MessageID: id})
	f.notifyLocked()
	return true, nil
}

func (f *Fake) sendChatAction(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, e := f.targetLocked(p, true)
	if e != nil {
		return nil, e
	}
	action := p["action"]
	if !chatActions[action] {
		return nil, badRequest("wrong parameter action in request")
	}
	f.actions = append(f.actions, Action{ChatID: cs.chat.ID, Action: action})
	f.notifyLocked()
	return true, nil
}

func (f *Fake) getChat(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, e := f.targetLocked(p, false)
	if e != nil {
		return nil, e
	}
	return cs.chat, nil
}
