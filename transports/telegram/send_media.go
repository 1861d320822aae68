package telegram

import (
	"context"
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

// Limits on outbound attachments.
const (
	maxCaption    = 1024     // UTF-16 units of a media caption
	maxUpload     = 50 << 20 // what the Bot API accepts from bots
	headTimeout   = 10 * time.Second
	uploadTimeout = 2 * time.Minute // fetching the file and uploading it
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
	fail := func(err error) (string, error) { return "", t.failedPart(out.ID, ids, err) }
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
			if i > 0 {
				if err := t.pace.wait(ctx, chat); err != nil {
					return fail(&transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
						Message: "waiting for the rate limit: " + err.Error()})
				}
			}
			c := ""
			if i == len(texts) {
				c = caption
			}
			id, err = t.sendFile(ctx, chat, out.Media[i-len(texts)], c, reply)
		}
		if err != nil {
			return fail(err)
		}
		ids = append(ids, id)
	}
	rid := remoteID(chat, ids)
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

// sendFile sends the file at rawURL to chat: by its URL when Telegram can
// fetch it, else uploaded by the gateway.
func (t *Transport) sendFile(ctx context.Context, chat int64, rawURL, caption string, replyTo int) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, &transports.Error{Kind: transports.KindRejected, Provider: "Telegram",
			Message: "an attachment's URL is not an http or https URL"}
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10)}
	if caption != "" {
		p["caption"] = caption
	}
	if replyTo != 0 {
		p["reply_to_message_id"] = strconv.Itoa(replyTo)
		p["allow_sending_without_reply"] = "true"
	}
	var m sentMessage
	if isPublicURL(ctx, rawURL) {
		mm := methodFor(t.headType(ctx, rawURL), name)
		p[mm.field] = rawURL
		err := t.call(ctx, mm.method, p, &m)
		return m.MessageID, err
	}

	// The gateway fetches it: only from an address the fetch policy allows
	// (checked first, and again on every connection), and the user learns
	// nothing of the network but that.
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	att, fe := transports.FetchAttachment(ctx, t.policy, t.fetch, rawURL, "Telegram", maxUpload, t.log)
	if fe != nil {
		return 0, fe
	}
	defer att.Body.Close()
	mm := methodFor(att.Type, name)
	if name == "" {
		name = "file" + extension(att.Type, "")
	}
	body := &cappedReader{r: att.Body, left: maxUpload}
	err = t.upload(ctx, mm.method, p, tgbotapi.RequestFile{Name: mm.field, Data: tgbotapi.FileReader{Name: name, Reader: body}}, &m)
	if body.over {
		return 0, tooLarge()
	}
	return m.MessageID, err
}

func tooLarge() *transports.Error { return transports.AttachmentTooLarge("Telegram", maxUpload) }

// headType returns the Content-Type a HEAD of rawURL answers, or "".
func (t *Transport) headType(ctx context.Context, rawURL string) string {
	ctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return ""
	}
	resp, err := t.fetch.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Content-Type")
}

// upload makes one multipart Bot API request bound to ctx, like call.
func (t *Transport) upload(ctx context.Context, method string, p tgbotapi.Params, file tgbotapi.RequestFile, out any) error {
	bot := &tgbotapi.BotAPI{Token: t.s.Token, Client: ctxClient{ctx, t.http}}
	bot.SetAPIEndpoint(t.endpoint)
	resp, err := bot.UploadFiles(method, p, []tgbotapi.RequestFile{file})
	return t.result(method, resp, err, out)
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
