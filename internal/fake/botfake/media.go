package botfake

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// Telegram's limits on files a bot sends.
const (
	maxCaptionUTF16 = 1024
	maxPhotoBytes   = 10 << 20
	maxUploadBytes  = 50 << 20
)

func init() {
	methods["sendphoto"] = sendFileMethod("photo")
	methods["senddocument"] = sendFileMethod("document")
	methods["sendvoice"] = sendFileMethod("voice")
}

// MediaSent is a file the bot sent with sendPhoto, sendDocument or
// sendVoice: uploaded (Data, FileName) or by URL (URL), or by the file_id of
// a file Telegram already has (FileID only).
type MediaSent struct {
	ChatID    int64
	MessageID int
	Method    string // "sendPhoto", "sendDocument" or "sendVoice"; "editMessageMedia" once replaced
	Caption   string
	URL       string // the HTTP URL given instead of a file, if any
	FileName  string // the upload's file name, if uploaded
	MimeType  string // for uploads: guessed from FileName, as Telegram does
	Data      []byte // the uploaded bytes, if uploaded
	FileID    string // the file's id in the message
}

// sentFile is how a bot message's file arrived, kept in Message.
type sentFile struct {
	method, url, name, mimeType string
	data                        []byte
	fileID                      string
}

// Media returns the files the bot sent, oldest first (deleted messages
// included), as they are now: a file replaced by editMessageMedia is the
// new one.
func (f *Fake) Media() []MediaSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []MediaSent
	for _, m := range f.sent {
		if m.file == nil {
			continue
		}
		out = append(out, MediaSent{ChatID: m.Chat.ID, MessageID: m.MessageID, Method: m.file.method,
			Caption: m.Caption, URL: m.file.url, FileName: m.file.name, MimeType: m.file.mimeType,
			Data: bytes.Clone(m.file.data), FileID: m.file.fileID})
	}
	return out
}

// WaitMedia blocks until the bot sent at least n files (see Media).
func (f *Fake) WaitMedia(ctx context.Context, n int) ([]MediaSent, error) {
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if m := f.Media(); len(m) >= n {
			return m, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return f.Media(), ctx.Err()
		}
	}
}

// sendFileMethod is the handler of sendPhoto, sendDocument or sendVoice,
// whose file parameter is field: an upload (multipart, the part named
// field or "attach://<name>"), an HTTP URL, or a known file_id. URLs of
// loopback or private hosts fail as on Telegram, which cannot reach them;
// others are recorded, not fetched.
func sendFileMethod(field string) handler {
	method := "send" + strings.ToUpper(field[:1]) + field[1:]
	return func(f *Fake, r *http.Request, p params) (any, *apiError) {
		in, e := fileParam(r, p, field)
		if e != nil {
			return nil, e
		}
		in.method = method
		caption := p["caption"]
		if utf16Len(caption) > maxCaptionUTF16 {
			return nil, badRequest("message caption is too long")
		}
		if e := checkParseMode(p["parse_mode"]); e != nil {
			return nil, e
		}
		if e := checkUpload(field, in); e != nil {
			return nil, e
		}

		f.mu.Lock()
		defer f.mu.Unlock()
		cs, e := f.targetLocked(p, true)
		if e != nil {
			return nil, e
		}
		var reply *Message
		if id, ok := p.int("reply_to_message_id"); ok {
			if orig := cs.msgs[id]; orig != nil {
				r := orig.clone()
				r.ReplyToMessage = nil
				reply = &r
			} else if !p.bool("allow_sending_without_reply") {
				return nil, badRequest("message to be replied not found")
			}
		}
		known, e := f.knownFileLocked(in)
		if e != nil {
			return nil, e
		}
		bot := f.bot()
		cs.lastID++
		m := &Message{MessageID: cs.lastID, From: &bot, Date: time.Now().Unix(), Chat: cs.chat,
			ReplyToMessage: reply, Caption: caption, ParseMode: p["parse_mode"],
			DisableNotification: p.bool("disable_notification")}
		f.attachLocked(m, field, in, known)
		cs.msgs[m.MessageID] = m
		f.sent = append(f.sent, m)
		f.notifyLocked()
		return m.clone(), nil
	}
}

// checkUpload applies Telegram's limits to in, a file sent as field
// ("photo", "document" or "voice"), if it was uploaded.
func checkUpload(field string, in sentFile) *apiError {
	if in.data == nil {
		return nil
	}
	switch {
	case len(in.data) > maxUploadBytes:
		return &apiError{Code: http.StatusRequestEntityTooLarge, Description: "Request Entity Too Large"}
	case field == "photo" && len(in.data) > maxPhotoBytes:
		return badRequest("PHOTO_INVALID_DIMENSIONS")
	case len(in.data) == 0:
		return badRequest("file must be non-empty")
	}
	return nil
}

// knownFileLocked returns the file Telegram has that in names by its
// file_id, if it does so.
func (f *Fake) knownFileLocked(in sentFile) (*storedFile, *apiError) {
	if in.fileID == "" {
		return nil, nil
	}
	known := f.files[in.fileID]
	if known == nil {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	return known, nil
}

// attachLocked makes in, a file sent as field ("photo", "document" or
// "voice"), the file of m: known if Telegram has it already, else stored
// if uploaded, else (fetched by Telegram from its URL) not downloadable.
func (f *Fake) attachLocked(m *Message, field string, in sentFile, known *storedFile) {
	file := func(prefix, dir, ext, mimeType string) File {
		switch {
		case known != nil:
			return known.File
		case in.data != nil:
			return f.addFileLocked(prefix, dir, ext, mimeType, in.data)
		}
		n := f.nextFile // fetched from the URL by Telegram: not downloadable here
		f.nextFile++
		return File{FileID: fmt.Sprintf("%sAAxkBAAI%06dURL", prefix, n), FileUniqueID: fmt.Sprintf("AQAD%06d", n)}
	}
	m.Photo, m.Document, m.Voice = nil, nil, nil
	switch field {
	case "photo":
		w, h := 800, 600
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(in.data)); err == nil && cfg.Width > 0 {
			w, h = cfg.Width, cfg.Height
		}
		fl := file("AgACAgIA", "photos", ".jpg", "image/jpeg")
		m.Photo = []PhotoSize{{FileID: fl.FileID, FileUniqueID: fl.FileUniqueID, Width: w, Height: h, FileSize: fl.FileSize}}
		in.fileID = fl.FileID
	case "voice":
		fl := file("AwACAgIA", "voice", ".oga", "audio/ogg")
		m.Voice = &Voice{FileID: fl.FileID, FileUniqueID: fl.FileUniqueID, Duration: max(len(in.data)/4000, 1),
			MimeType: "audio/ogg", FileSize: fl.FileSize}
		in.fileID = fl.FileID
	default:
		ext := strings.ToLower(path.Ext(in.name))
		fl := file("BQACAgIA", "documents", ext, in.mimeType)
		name := in.name
		if in.url != "" {
			name = path.Base(in.url)
		}
		m.Document = &Document{FileID: fl.FileID, FileUniqueID: fl.FileUniqueID, FileName: name,
			MimeType: in.mimeType, FileSize: fl.FileSize}
		in.fileID = fl.FileID
	}
	m.file = &in
}

// fileParam reads the file parameter field of a send method.
func fileParam(r *http.Request, p params, field string) (sentFile, *apiError) {
	part := field
	v := strings.TrimSpace(p[field])
	if name, ok := strings.CutPrefix(v, "attach://"); ok {
		part, v = name, ""
	}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File[part]; len(fhs) > 0 {
			return readUpload(fhs[0])
		}
	}
	switch {
	case v == "":
		return sentFile{}, badRequest("there is no " + field + " in the request")
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return sentFile{}, badRequest("wrong HTTP URL specified")
		}
		if !reachable(u.Hostname()) {
			return sentFile{}, badRequest("failed to get HTTP URL content")
		}
		mt, _, _ := strings.Cut(mime.TypeByExtension(strings.ToLower(path.Ext(u.Path))), ";")
		return sentFile{url: v, mimeType: mt}, nil
	}
	return sentFile{fileID: v}, nil
}

func readUpload(fh *multipart.FileHeader) (sentFile, *apiError) {
	fl, err := fh.Open()
	if err != nil {
		return sentFile{}, badRequest("can't read the uploaded file")
	}
	defer fl.Close()
	data, err := io.ReadAll(io.LimitReader(fl, maxUploadBytes+1))
	if err != nil {
		return sentFile{}, badRequest("can't read the uploaded file")
	}
	mt, _, _ := strings.Cut(mime.TypeByExtension(strings.ToLower(path.Ext(fh.Filename))), ";")
	if mt == "" {
		mt = "application/octet-stream"
	}
	if data == nil {
		data = []byte{}
	}
	return sentFile{name: fh.Filename, mimeType: mt, data: data}, nil
}

// reachable reports whether Telegram's servers could reach host: not
// "localhost" nor a loopback, private, link-local or unspecified address.
func reachable(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}
