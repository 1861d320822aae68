package botfake

import (
	"net/http"
	"time"
)

func init() {
	methods["editmessagecaption"] = (*Fake).editMessageCaption
}

// editMessageCaption changes the caption of a photo, document or voice
// note the bot sent: caption (0-1024 UTF-16 units; absent or empty removes
// it), parse_mode; caption_entities, show_caption_above_media and
// reply_markup are accepted. A text message answers "there is no caption
// in the message to edit". On success the edited Message is returned.
func (f *Fake) editMessageCaption(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, id, e := f.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	caption := p["caption"]
	if utf16Len(caption) > maxCaptionUTF16 {
		return nil, badRequest("message caption is too long")
	}
	if e := checkParseMode(p["parse_mode"]); e != nil {
		return nil, e
	}
	m, e := f.ownMessageLocked(cs, id)
	if e != nil {
		return nil, e
	}
	if !m.hasMedia() {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if m.Caption == caption && m.ParseMode == p["parse_mode"] && m.replyMarkup == p["reply_markup"] {
		return nil, badRequest("message is not modified: specified new message content and reply markup " +
			"are exactly the same as a current content and reply markup of the message")
	}
	m.Caption, m.ParseMode, m.replyMarkup = caption, p["parse_mode"], p["reply_markup"]
	m.EditDate = time.Now().Unix()
	f.captionEdits = append(f.captionEdits, Edit{ChatID: cs.chat.ID, MessageID: id, Text: caption})
	f.notifyLocked()
	return m.clone(), nil
}

// CaptionEdits returns every successful editMessageCaption call, oldest
// first (Text is the new caption).
func (f *Fake) CaptionEdits() []Edit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Edit(nil), f.captionEdits...)
}
