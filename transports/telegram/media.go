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

// Limits on files relayed to XMPP.
const (
	// botDownloadMax is the largest file Telegram's Bot API lets a bot
	// download (getFile refuses the rest).
	botDownloadMax = 20 << 20
	// maxMedia caps a file relayed from a Bot API server in local mode,
	// which serves files of any size.
	maxMedia = 50 << 20
)

// mediaAtOnce is how many media GETs the transport serves at once (each
// calls getFile and downloads the file), and at most
// transports.MediaPerURL of one URL: enough for an album of 10 opened at
// once, and more. Past it, a GET waits for a slot (transports.MediaSlots),
// then is answered 503.
const mediaAtOnce = 16

// downloadLimit is the largest file the gateway relays to XMPP.
func (t *Transport) downloadLimit() int64 {
	if t.s.LocalMode {
		return maxMedia
	}
	return botDownloadMax
}

// media returns the gateway URLs of msg's attachment, if it has one. An
// attachment larger than downloadLimit gets no URL, which could never
// work: note names it instead, for the message's body.
func (t *Transport) media(msg *tgbotapi.Message) (urls []string, note string) {
	var (
		id, name string
		size     int
	)
	switch {
	case len(msg.Photo) > 0:
		p := msg.Photo[len(msg.Photo)-1] // the largest size comes last
		id, name, size = p.FileID, "photo.jpg", p.FileSize
	case msg.Document != nil:
		id, name, size = msg.Document.FileID, msg.Document.FileName, msg.Document.FileSize
	case msg.Voice != nil:
		id, name, size = msg.Voice.FileID, "voice"+extension(msg.Voice.MimeType, ".oga"), msg.Voice.FileSize
	case msg.Audio != nil:
		id, name, size = msg.Audio.FileID, msg.Audio.FileName, msg.Audio.FileSize
	case msg.Video != nil:
		id, name, size = msg.Video.FileID, msg.Video.FileName, msg.Video.FileSize
	case msg.VideoNote != nil:
		id, name, size = msg.VideoNote.FileID, "video.mp4", msg.VideoNote.FileSize
	case msg.Animation != nil:
		id, name, size = msg.Animation.FileID, msg.Animation.FileName, msg.Animation.FileSize
	case msg.Sticker != nil:
		id, name, size = msg.Sticker.FileID, "sticker.webp", msg.Sticker.FileSize
	default:
		return nil, ""
	}
	if name == "" {
		name = "file"
	}
	if limit := t.downloadLimit(); int64(size) > limit {
		return nil, transports.TooLargeNote(name, int64(size), limit, "Telegram")
	}
	return []string{t.mediaURL + "/" + t.signer.Sign(0, id, name) + "/" + url.PathEscape(id) + "/" + url.PathEscape(name)}, ""
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
// covers the expiry, the file id and the name; the token stays inside. At
// most mediaAtOnce are served at once (see transports.MediaSlots). The
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
		key := fileID + "/" + name
		if !t.mediaLoad.Acquire(r.Context(), mediaAtOnce, key) {
			transports.MediaBusy(w, "telegram media: too many files are being fetched; try again in a moment")
			return
		}
		defer t.mediaLoad.Release(key)
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
		if f.FileSize > t.downloadLimit() {
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
			Declared: []string{resp.Header.Get("Content-Type"), mime.TypeByExtension(path.Ext(f.FilePath))}, Limit: t.downloadLimit()})
		if err != nil {
			t.log.Warn("media: serving failed", "err", t.scrub(err.Error()))
		}
		transports.AbortMedia(err)
	})
}
