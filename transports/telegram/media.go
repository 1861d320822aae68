package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// maxMedia caps a file relayed to XMPP; the Bot API serves up to 20 MB.
const maxMedia = 50 << 20

// media returns the gateway URLs of msg's attachment, if it has one.
func (t *Transport) media(msg *tgbotapi.Message) []string {
	var id, name string
	switch {
	case len(msg.Photo) > 0:
		p := msg.Photo[len(msg.Photo)-1] // the largest size comes last
		id, name = p.FileID, "photo.jpg"
	case msg.Document != nil:
		id, name = msg.Document.FileID, msg.Document.FileName
	case msg.Voice != nil:
		id, name = msg.Voice.FileID, "voice"+extension(msg.Voice.MimeType, ".oga")
	case msg.Audio != nil:
		id, name = msg.Audio.FileID, msg.Audio.FileName
	case msg.Video != nil:
		id, name = msg.Video.FileID, msg.Video.FileName
	case msg.VideoNote != nil:
		id, name = msg.VideoNote.FileID, "video.mp4"
	case msg.Animation != nil:
		id, name = msg.Animation.FileID, msg.Animation.FileName
	case msg.Sticker != nil:
		id, name = msg.Sticker.FileID, "sticker.webp"
	default:
		return nil
	}
	if name == "" {
		name = "file"
	}
	return []string{t.mediaURL + "/" + t.sign(id) + "/" + url.PathEscape(id) + "/" + url.PathEscape(name)}
}

func extension(mimeType, def string) string {
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	return def
}

// sign makes a media URL unguessable: only URLs the gateway handed out are
// served.
func (t *Transport) sign(fileID string) string {
	m := hmac.New(sha256.New, t.mediaKey)
	m.Write([]byte(fileID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// telegramFile is the Bot API's File object.
type telegramFile struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size"`
	FilePath string `json:"file_path"`
}

// Media implements transports.MediaServer: GET /<signature>/<file id>/<name>
// fetches the file from Telegram and streams it. The token stays inside.
func (t *Transport) Media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "telegram media: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
		if len(parts) != 3 || !hmac.Equal([]byte(parts[0]), []byte(t.sign(parts[1]))) {
			http.NotFound(w, r)
			return
		}
		fileID, name := parts[1], parts[2]
		var f telegramFile
		if err := t.call(r.Context(), "getFile", tgbotapi.Params{"file_id": fileID}, &f); err != nil {
			status := http.StatusBadGateway
			if pe, ok := err.(*transports.Error); ok && pe.Kind == transports.KindRejected {
				status = http.StatusNotFound // Telegram no longer has it
			}
			t.log.Warn("media: getFile failed", "err", err)
			http.Error(w, "telegram media: the file cannot be fetched from Telegram", status)
			return
		}
		if f.FileSize > maxMedia {
			http.Error(w, "telegram media: file too large", http.StatusRequestEntityTooLarge)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet,
			t.s.APIURL+"/file/bot"+t.s.Token+"/"+f.FilePath, nil)
		resp, err := t.http.Do(req)
		if err != nil {
			t.log.Warn("media: download failed", "err", t.scrub(err.Error()))
			http.Error(w, "telegram media: download failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.log.Warn("media: download failed", "status", resp.StatusCode)
			http.Error(w, "telegram media: download failed", http.StatusBadGateway)
			return
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = mime.TypeByExtension(path.Ext(f.FilePath))
		}
		if ctype == "" {
			ctype = resp.Header.Get("Content-Type")
		}
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		if resp.ContentLength >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		}
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "private, max-age=86400")
		if r.Method == http.MethodHead {
			return
		}
		io.Copy(w, io.LimitReader(resp.Body, maxMedia))
	})
}
