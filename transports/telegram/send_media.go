package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// Limits on outbound attachments (Bot API, "Sending files").
const (
	maxCaption     = 1024     // UTF-16 units of a media caption
	maxUpload      = 50 << 20 // what the Bot API accepts from bots
	maxPhotoUpload = 10 << 20 // what sendPhoto accepts uploaded
	maxURLPhoto    = 5 << 20  // sendPhoto by URL
	maxURLVoice    = 1 << 20  // sendVoice by URL (larger: sent as a file)
	maxURLFile     = 20 << 20 // any other method by URL
	headTimeout    = 10 * time.Second
	uploadTimeout  = 2 * time.Minute // fetching the file and uploading it
)

// isPublicURL tells whether Telegram's servers could fetch a URL
// themselves; tests replace it.
var isPublicURL = transports.IsPublicURL

// mediaMethod is a Bot API method for sending a file and its parameter.
type mediaMethod struct{ method, field string }

var (
	methodPhoto    = mediaMethod{"sendPhoto", "photo"}
	methodVoice    = mediaMethod{"sendVoice", "voice"}
	methodDocument = mediaMethod{"sendDocument", "document"}
)

// methodFor picks how a file of contentType (or, without one, named name)
// is sent: images as photos, Ogg audio as voice notes, the rest as
// documents.
func methodFor(contentType, name string) mediaMethod {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" || mt == "application/octet-stream" {
		mt, _, _ = mime.ParseMediaType(mime.TypeByExtension(strings.ToLower(path.Ext(name))))
	}
	switch {
	case mt == "image/jpeg", mt == "image/png", mt == "image/webp", mt == "image/gif", mt == "image/bmp":
		return methodPhoto
	case mt == "audio/ogg", mt == "audio/opus", mt == "audio/x-opus+ogg":
		return methodVoice
	case strings.HasSuffix(strings.ToLower(path.Ext(name)), ".oga") && (mt == "" || strings.HasPrefix(mt, "audio/")):
		return methodVoice
	}
	return methodDocument
}

// sendMedia sends out's attachments, one message each, with out.Body as the
// caption of the first; a body too long for a caption goes first as text.
// The remote id lists every message sent. As in Send, a retry after a
// partial send does not repeat the messages already sent.
func (t *Transport) sendMedia(ctx context.Context, chat int64, out transports.Outbound) (string, error) {
	replyTo := 0
	if c, ids, ok := parseRemoteID(out.ReplyTo); ok && c == chat && len(ids) > 0 {
		replyTo = ids[0]
	}
	var texts []string
	caption := out.Body
	if strings.TrimSpace(caption) == "" {
		caption = ""
	} else if utf16Len(caption) > maxCaption {
		texts, caption = split(caption, maxText), ""
	}
	t.mu.Lock()
	ids := t.progress[out.ID].ids
	t.mu.Unlock()
	fail := func(err error) (string, error) { return "", t.failedPart(out.ID, ids, len(ids) > 0, err) }
	for i := len(ids); i < len(texts)+len(out.Media); i++ {
		// The caller paced the first message (see Pace); the rest wait here.
		reply := 0
		if i == 0 {
			reply = replyTo
		}
		var (
			id  int
			err error
		)
		if i < len(texts) {
			id, err = t.sendText(ctx, chat, texts[i], i > 0, reply)
		} else {
			if err := t.waitTurn(ctx, chat, i > 0); err != nil {
				return fail(err)
			}
			c := ""
			if i == len(texts) {
				c = caption
			}
			id, err = t.putFile(ctx, out.Media[i-len(texts)], fileDest{chat: chat, caption: c, replyTo: reply})
		}
		if err != nil {
			return fail(err)
		}
		ids = append(ids, id)
	}
	rid := remoteID(chat, ids)
	files := make([]fileRef, len(out.Media))
	for i, u := range out.Media {
		files[i] = fileRef{ids[len(texts)+i], urlHash(u)}
	}
	if err := t.recordMedia(ctx, chat, files); err != nil {
		return fail(err)
	}
	if len(ids) > 1 {
		if err := t.recordParts(ctx, chat, ids, rid); err != nil {
			return fail(err)
		}
	}
	t.mu.Lock()
	delete(t.progress, out.ID)
	t.mu.Unlock()
	return rid, nil
}

// fileDest is where putFile puts a file: a new message in chat (a reply to
// message replyTo unless it is 0), or, if replacing is set, that message
// of chat, whose file it replaces (editMessageMedia); with caption.
type fileDest struct {
	chat      int64
	replacing int
	caption   string
	replyTo   int
}

// inputMedia is the Bot API's InputMedia, for editMessageMedia.
type inputMedia struct {
	Type    string `json:"type"`
	Media   string `json:"media"`
	Caption string `json:"caption,omitempty"`
}

// kind is how a file that methodFor sends with mm goes to d:
// editMessageMedia takes no voice notes, so one replacing a file goes as a
// document.
func (d fileDest) kind(mm mediaMethod) mediaMethod {
	if d.replacing != 0 && mm == methodVoice {
		return methodDocument
	}
	return mm
}

// request returns the Bot API method and parameters that put a file of
// kind mm to d: file is its URL, or "" for an upload, which goes in the
// multipart part named field.
func (d fileDest) request(mm mediaMethod, file string) (method string, p tgbotapi.Params, field string) {
	p = tgbotapi.Params{"chat_id": strconv.FormatInt(d.chat, 10)}
	if d.replacing != 0 {
		p["message_id"] = strconv.Itoa(d.replacing)
		im := inputMedia{Type: mm.field, Media: file, Caption: d.caption}
		if file == "" {
			im.Media = "attach://file"
		}
		j, _ := json.Marshal(im)
		p["media"] = string(j)
		return "editMessageMedia", p, "file"
	}
	if d.caption != "" {
		p["caption"] = d.caption
	}
	if d.replyTo != 0 {
		p["reply_to_message_id"] = strconv.Itoa(d.replyTo)
		p["allow_sending_without_reply"] = "true"
	}
	if file != "" {
		p[mm.field] = file
	}
	return mm.method, p, mm.field
}

// putFile puts the file at rawURL where d says and returns the message
// that holds it: by its URL when Telegram can fetch it and takes it by URL
// (takesByURL, from what a HEAD says), else uploaded by the gateway. A
// by-URL request Telegram refuses (400) is uploaded instead, once, unless
// the refusal is about the message replaced: a refusal sent nothing, so
// nothing is sent twice.
func (t *Transport) putFile(ctx context.Context, rawURL string, d fileDest) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, &transports.Error{Kind: transports.KindRejected, Provider: "Telegram",
			Message: "an attachment's URL is not an http or https URL"}
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	if isPublicURL(ctx, rawURL) {
		ctype, size := t.head(ctx, rawURL)
		if mm := d.kind(methodFor(ctype, name)); takesByURL(mm, ctype, name, size) {
			var m sentMessage
			method, p, _ := d.request(mm, rawURL)
			err := t.call(ctx, method, p, &m)
			if !refused(err) || editGone(err) || mediaNotEditable(err) || notModified(err) {
				// Accepted, or refused for the message replaced,
				// not for the URL.
				return m.MessageID, err
			}
			t.log.Info("Telegram refused an attachment by URL; the gateway uploads it", "method", method, "err", err)
		}
	}
	return t.uploadFile(ctx, d, rawURL, name)
}

// takesByURL reports whether Telegram takes a file by its URL with mm,
// given its Content-Type (else its name's extension) and size (-1 if
// unknown): photos up to 5 MB, Ogg voice notes up to 1 MB (a larger one
// would become a file), and documents up to 20 MB that are PDF or ZIP,
// the only types sendDocument takes by URL. A photo or document of
// unknown size is tried (a refusal is uploaded instead).
func takesByURL(mm mediaMethod, ctype, name string, size int64) bool {
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "" || mt == "application/octet-stream" {
		mt, _, _ = mime.ParseMediaType(mime.TypeByExtension(strings.ToLower(path.Ext(name))))
	}
	switch mm {
	case methodPhoto:
		return size <= maxURLPhoto
	case methodVoice:
		return mt == "audio/ogg" && size >= 0 && size <= maxURLVoice
	}
	switch mt {
	case "application/pdf", "application/zip", "application/x-zip-compressed":
		return size <= maxURLFile
	}
	return false
}

// refused reports whether err is Telegram's refusal of a request (400),
// which sent nothing.
func refused(err error) bool {
	pe, ok := err.(*transports.Error)
	return ok && pe.Kind == transports.KindRejected && pe.Code == strconv.Itoa(http.StatusBadRequest)
}

// uploadFile fetches rawURL under the fetch policy (checked first, and
// again on every connection; the user learns nothing of the network but
// that) and uploads it to d: as a photo, voice note or document by its
// type, a photo too large for sendPhoto (10 MB) as a document.
func (t *Transport) uploadFile(ctx context.Context, d fileDest, rawURL, name string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	id, photoTooLarge, err := t.upload1(ctx, d, rawURL, name, false)
	if photoTooLarge {
		// Its size was unknown: its upload was cut off at 10 MB, so
		// nothing was sent. It goes again, fetched anew, as a document.
		id, _, err = t.upload1(ctx, d, rawURL, name, true)
	}
	return id, err
}

// upload1 fetches rawURL and uploads it once, as a document if asDocument.
// photoTooLarge reports a photo of unknown size cut off at sendPhoto's
// limit (nothing sent).
func (t *Transport) upload1(ctx context.Context, d fileDest, rawURL, name string, asDocument bool) (id int, photoTooLarge bool, err error) {
	att, fe := transports.FetchAttachment(ctx, t.policy, t.fetch, rawURL, "Telegram", maxUpload, t.log)
	if fe != nil {
		return 0, false, fe
	}
	defer att.Body.Close()
	mm := d.kind(methodFor(att.Type, name))
	if asDocument || (mm == methodPhoto && att.Size > maxPhotoUpload) {
		mm = methodDocument
	}
	if name == "" {
		name = "file" + extension(att.Type, "")
	}
	limit := int64(maxUpload)
	if mm == methodPhoto {
		limit = maxPhotoUpload
	}
	var m sentMessage
	body := &cappedReader{r: att.Body, left: limit}
	method, p, field := d.request(mm, "")
	err = t.upload(ctx, method, p, tgbotapi.RequestFile{Name: field, Data: tgbotapi.FileReader{Name: name, Reader: body}}, &m)
	switch {
	case body.over && mm == methodPhoto:
		return 0, true, err
	case body.over:
		return 0, false, tooLarge()
	}
	return m.MessageID, false, err
}

func tooLarge() *transports.Error { return transports.AttachmentTooLarge("Telegram", maxUpload) }

// head returns the Content-Type ("" if none) and length (-1 if unknown)
// a HEAD of rawURL answers.
func (t *Transport) head(ctx context.Context, rawURL string) (ctype string, size int64) {
	ctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return "", -1
	}
	resp, err := t.fetch.Do(req)
	if err != nil {
		return "", -1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", -1
	}
	return resp.Header.Get("Content-Type"), resp.ContentLength
}

// upload makes one multipart Bot API request bound to ctx, like call.
func (t *Transport) upload(ctx context.Context, method string, p tgbotapi.Params, file tgbotapi.RequestFile, out any) error {
	var status int
	resp, err := t.newBot(ctx, &status).UploadFiles(method, p, []tgbotapi.RequestFile{file})
	return t.result(method, status, resp, err, out)
}

// cappedReader fails once more than left bytes were read.
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLarge = errors.New("attachment too large")

func (c *cappedReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	return n, err
}
