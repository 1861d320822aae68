package botfake

// The JSON objects of the Bot API, with Telegram's field names. Empty
// optional fields are omitted, as Telegram does.

// Chat is a Telegram chat. Group and channel IDs are negative
// (supergroups and channels look like -1001234567890).
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"` // "private", "group", "supergroup" or "channel"
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Message is a message in a chat: one the bot sent or one a user sent.
type Message struct {
	MessageID      int         `json:"message_id"`
	From           *User       `json:"from,omitempty"`
	SenderChat     *Chat       `json:"sender_chat,omitempty"`
	Date           int64       `json:"date"`
	Chat           Chat        `json:"chat"`
	ReplyToMessage *Message    `json:"reply_to_message,omitempty"`
	EditDate       int64       `json:"edit_date,omitempty"`
	Text           string      `json:"text,omitempty"`
	Caption        string      `json:"caption,omitempty"`
	Photo          []PhotoSize `json:"photo,omitempty"`
	Document       *Document   `json:"document,omitempty"`
	Voice          *Voice      `json:"voice,omitempty"`

	// ParseMode and DisableNotification are what the bot asked for when
	// it sent or last edited the message. They are not part of
	// Telegram's JSON (Telegram turns parse_mode into entities).
	ParseMode           string `json:"-"`
	DisableNotification bool   `json:"-"`

	replyMarkup string    // raw reply_markup, to detect "message is not modified"
	file        *sentFile // how the bot sent the message's file, if it did
}

// PhotoSize is one size of a photo.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

// Document is a general file.
type Document struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

// Voice is a voice note.
type Voice struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

// File is what getFile answers.
type File struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

// ChatMember is a member of a chat, as in my_chat_member updates.
type ChatMember struct {
	User   User   `json:"user"`
	Status string `json:"status"` // "creator", "administrator", "member", "restricted", "left" or "kicked"
}

// ChatMemberUpdated is the body of a my_chat_member update.
type ChatMemberUpdated struct {
	Chat          Chat       `json:"chat"`
	From          User       `json:"from"`
	Date          int64      `json:"date"`
	OldChatMember ChatMember `json:"old_chat_member"`
	NewChatMember ChatMember `json:"new_chat_member"`
}

// Update is one incoming update. Exactly one of the optional fields is set.
type Update struct {
	UpdateID          int                `json:"update_id"`
	Message           *Message           `json:"message,omitempty"`
	EditedMessage     *Message           `json:"edited_message,omitempty"`
	ChannelPost       *Message           `json:"channel_post,omitempty"`
	EditedChannelPost *Message           `json:"edited_channel_post,omitempty"`
	MyChatMember      *ChatMemberUpdated `json:"my_chat_member,omitempty"`
}

// Edit is one successful editMessageText call (Text is the new text), or
// one of editMessageCaption (Text is the new caption, "" if removed).
type Edit struct {
	ChatID    int64
	MessageID int
	Text      string
}

// Deleted is one successful deleteMessage call.
type Deleted struct {
	ChatID    int64
	MessageID int
}

// Action is one successful sendChatAction call.
type Action struct {
	ChatID int64
	Action string
}

// WebhookAttempt is one POST of an update to the webhook. Status is the
// HTTP status of the answer, 0 if there was none; Err says why.
type WebhookAttempt struct {
	UpdateID int
	Status   int
	Err      string
}

// hasMedia reports whether m carries a file: a photo, a document or a
// voice note, whose text is its caption.
func (m *Message) hasMedia() bool { return m.Photo != nil || m.Document != nil || m.Voice != nil }

// clone returns a deep copy, so callers cannot change the fake's state.
func (m *Message) clone() Message {
	c := *m
	if m.From != nil {
		u := *m.From
		c.From = &u
	}
	if m.SenderChat != nil {
		sc := *m.SenderChat
		c.SenderChat = &sc
	}
	if m.ReplyToMessage != nil {
		r := m.ReplyToMessage.clone()
		c.ReplyToMessage = &r
	}
	if m.Photo != nil {
		c.Photo = append([]PhotoSize(nil), m.Photo...)
	}
	if m.Document != nil {
		d := *m.Document
		c.Document = &d
	}
	if m.Voice != nil {
		v := *m.Voice
		c.Voice = &v
	}
	return c
}
