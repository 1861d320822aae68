package telegram

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"path"
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
	return []string{t.mediaURL + "/" + t.signer.Sign(0, id, name) + "/" + url.PathEscape(id) + "/" + url.PathEscape(name)}
}

func extension(mimeType, def string) string {
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	return def
}

// sign returns the signature of a media path's elements, as in the URLs
// media hands out (without their expiry).
func (t *Transport) sign(elems ...string) string {
	sig, _, _ := strings.Cut(t.signer.Sign(0, elems...), "/")
	return sig
}

// telegramFile is the Bot API's File object.
type telegramFile struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size"`
	FilePath string `json:"file_path"`
}

// Media implements transports.MediaServer: GET /<signature>/<expiry>/<file
// id>/<name> fetches the file from Telegram and streams it. The signature
// covers the expiry, the file id and the name; the token stays inside. The
// Content-Type comes from the file's bytes or Telegram's type, never from
// the name, and only passive images, audio and video are served inline
// (see transports.ServeMedia).
func (t *Transport) Media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !transports.MediaRequest(w, r, "telegram") {
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 4)
		if len(parts) != 4 || !t.signer.Verify(parts[0], parts[1], parts[2], parts[3]) {
			http.NotFound(w, r)
			return
		}
		fileID, name := parts[2], parts[3]
		ctx, cancel := context.WithTimeout(r.Context(), transports.MediaWriteTimeout) // the client may read slowly
		defer cancel()
		var f telegramFile
		if err := t.call(ctx, "getFile", tgbotapi.Params{"file_id": fileID}, &f); err != nil {
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
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
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
		// Telegram's own types: its Content-Type, then its file_path's
		// extension (photos/file_1.jpg), which the bytes overrule.
		err = transports.ServeMedia(w, r, transports.MediaFile{Body: resp.Body, Size: resp.ContentLength, Name: name,
			Declared: []string{resp.Header.Get("Content-Type"), mime.TypeByExtension(path.Ext(f.FilePath))}, Limit: maxMedia})
		if err != nil {
			t.log.Warn("media: serving failed", "err", t.scrub(err.Error()))
		}
		transports.AbortMedia(err)
	})
}
