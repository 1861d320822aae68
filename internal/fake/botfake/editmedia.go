package botfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

func init() {
	methods["editmessagemedia"] = (*Fake).editMessageMedia
}

// inputMedia is the InputMedia object editMessageMedia takes as its media
// parameter, JSON-serialised.
type inputMedia struct {
	Type      string `json:"type"`
	Media     string `json:"media"`
	Caption   string `json:"caption"`
	ParseMode string `json:"parse_mode"`
}

// editMessageMedia replaces the file of a message the bot sent. Its media
// parameter is an InputMedia as JSON: type "photo" or "document" (audio,
// video and animation are not faked), media "attach://<name>" (the
// multipart part <name>), an HTTP URL (as for sendPhoto) or a known
// file_id, and the new caption (absent: none) with its parse_mode. A voice
// note answers "message media can't be edited"; a text message gets the
// file, its text replaced by the caption. On success the edited Message
// is returned.
func (f *Fake) editMessageMedia(r *http.Request, p params) (any, *apiError) {
	var im inputMedia
	if err := json.Unmarshal([]byte(p["media"]), &im); err != nil {
		return nil, badRequest("can't parse input media JSON object")
	}
	if im.Type != "photo" && im.Type != "document" {
		return nil, badRequest(`can't parse InputMedia: type "` + im.Type + `" is unsupported`)
	}
	if name, ok := strings.CutPrefix(im.Media, "attach://"); ok && (r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0) {
		return nil, badRequest("can't parse InputMedia: media not found")
	}
	in, e := fileParam(r, params{im.Type: im.Media}, im.Type)
	if e != nil {
		return nil, e
	}
	in.method = "editMessageMedia"
	if utf16Len(im.Caption) > maxCaptionUTF16 {
		return nil, badRequest("message caption is too long")
	}
	if e := checkParseMode(im.ParseMode); e != nil {
		return nil, e
	}
	if e := checkUpload(im.Type, in); e != nil {
		return nil, e
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	cs, id, e := f.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	m, e := f.ownMessageLocked(cs, id)
	if e != nil {
		return nil, e
	}
	if m.Voice != nil {
		return nil, badRequest("message media can't be edited")
	}
	known, e := f.knownFileLocked(in)
	if e != nil {
		return nil, e
	}
	if known != nil && m.file != nil && m.file.fileID == in.fileID && m.Caption == im.Caption && m.ParseMode == im.ParseMode {
		return nil, badRequest("message is not modified: specified new message content and reply markup " +
			"are exactly the same as a current content and reply markup of the message")
	}
	m.Text, m.Caption, m.ParseMode = "", im.Caption, im.ParseMode
	f.attachLocked(m, im.Type, in, known)
	m.EditDate = time.Now().Unix()
	f.mediaEdits = append(f.mediaEdits, Edit{ChatID: cs.chat.ID, MessageID: id, Text: im.Caption})
	f.notifyLocked()
	return m.clone(), nil
}

// MediaEdits returns every successful editMessageMedia call, oldest first
// (Text is the new caption). Media shows the files the messages hold now.
func (f *Fake) MediaEdits() []Edit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Edit(nil), f.mediaEdits...)
}
