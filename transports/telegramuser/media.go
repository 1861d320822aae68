package telegramuser

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// Attachments to XMPP are served by the gateway: a message's media URL
// names the account (its Telegram id) and the message, signed; opening it
// reads the message again (file references expire), then streams the file
// with upload.getFile, at most mediaAtOnce at once per account. Nothing
// in the URL is a secret or names the user.

var _ transports.MediaServer = (*Transport)(nil)

// maxMedia caps a file relayed either way.
const maxMedia = 50 << 20

// mediaAtOnce is how many media GETs one account serves at once (each
// reads the message, then the file, with a part buffer of its own), and
// at most transports.MediaPerURL of one URL: an album of 10 opened at
// once. Past it, a GET waits for a slot (transports.MediaSlots), then is
// answered 503.
const mediaAtOnce = 10

// newSigner signs media URLs with a key derived from the session key.
func newSigner(p transports.Params, sessionKey string) *transports.MediaSigner {
	k := sha256.Sum256([]byte("xmppgw telegram-user media\x00" + sessionKey))
	return transports.NewMediaSigner(k[:], p.MediaTTL, nil)
}

// mediaFile is the file of a message's media.
type mediaFile struct {
	loc  tg.InputFileLocationClass
	name string
	size int64 // in bytes, -1 if Telegram did not say (served as Content-Length)
}

// mediaOf returns the file of a message's media, if it has one the
// gateway relays (a photo or a document).
func mediaOf(m *tg.Message) (mediaFile, bool) {
	switch md := m.Media.(type) {
	case *tg.MessageMediaPhoto:
		p, ok := md.Photo.(*tg.Photo)
		if !ok || len(p.Sizes) == 0 {
			return mediaFile{}, false
		}
		typ, size := "", int64(-1)
		for _, s := range p.Sizes { // the largest comes last
			switch s := s.(type) {
			case *tg.PhotoSize:
				typ, size = s.Type, int64(s.Size)
			case *tg.PhotoSizeProgressive:
				typ, size = s.Type, -1
				if len(s.Sizes) > 0 { // the sizes of its prefixes: the whole file's last
					size = int64(s.Sizes[len(s.Sizes)-1])
				}
			}
		}
		loc := &tg.InputPhotoFileLocation{ID: p.ID, AccessHash: p.AccessHash, FileReference: p.FileReference, ThumbSize: typ}
		return mediaFile{loc: loc, name: "photo.jpg", size: knownSize(size)}, typ != ""
	case *tg.MessageMediaDocument:
		d, ok := md.Document.(*tg.Document)
		if !ok {
			return mediaFile{}, false
		}
		name := "file"
		for _, a := range d.Attributes {
			if f, ok := a.(*tg.DocumentAttributeFilename); ok && f.FileName != "" {
				name = f.FileName
			}
		}
		loc := &tg.InputDocumentFileLocation{ID: d.ID, AccessHash: d.AccessHash, FileReference: d.FileReference}
		return mediaFile{loc: loc, name: name, size: knownSize(d.Size)}, true
	}
	return mediaFile{}, false
}

// knownSize is a size Telegram gave, or -1 for none (0: no file is empty).
func knownSize(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// mediaURL is the gateway URL of message r's attachment in a's box.
func (a *account) mediaURL(r ref, name string) string {
	acct, msg := string(a.addr()), r.String()
	return a.t.p.MediaURL + "/" + a.t.signer.Sign(0, acct, msg, name) + "/" + acct + "/" + msg + "/" + url.PathEscape(name)
}

// Media implements transports.MediaServer: GET
// /<signature>/<expiry>/<account>/<message id>/<name>.
func (t *Transport) Media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !transports.MediaRequest(w, r, t.p.Name) {
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
		if len(parts) != 5 || !t.signer.Verify(parts[0], parts[1], parts[2], parts[3], parts[4]) {
			http.NotFound(w, r)
			return
		}
		id, ok := parseRef(parts[3])
		a := t.byID(transports.Addr(parts[2]))
		if !ok || a == nil {
			http.Error(w, "telegram media: the account is not signed in", http.StatusNotFound)
			return
		}
		key := parts[3] + "/" + parts[4]
		if !a.mediaLoad.Acquire(r.Context(), mediaAtOnce, key) {
			// As the account's Telegram session is the user's: no more
			// requests on it for anyone holding a URL.
			transports.MediaBusy(w, "telegram media: too many files are being read from this account; try again in a moment")
			return
		}
		defer a.mediaLoad.Release(key)
		ctx, cancel := context.WithTimeout(r.Context(), transports.MediaWriteTimeout) // the client may read slowly
		defer cancel()
		f, ok, err := a.location(ctx, id)
		if err != nil {
			t.log.Warn("media: reading the message failed", "err", err)
			http.Error(w, "telegram media: the file cannot be fetched from Telegram", http.StatusBadGateway)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.size > maxMedia { // 413, before anything is read
			transports.ServeMedia(w, r, transports.MediaFile{Body: http.NoBody, Size: f.size, Name: parts[4], Limit: maxMedia})
			t.log.Info("media: file too large", "size", f.size)
			return
		}
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := downloader.NewDownloader().Download(a.api(), f.loc).Stream(ctx, pw)
			pw.CloseWithError(err)
			done <- err
		}()
		err = transports.ServeMedia(w, r, transports.MediaFile{Body: pr, Size: f.size, Name: parts[4], Limit: maxMedia})
		pr.CloseWithError(io.ErrClosedPipe)
		cancel()
		<-done
		if err != nil {
			t.log.Warn("media: serving failed", "err", err)
		}
		transports.AbortMedia(err)
	})
}

// location reads message r of the account's box again, for a fresh file
// reference; ok is false if it has no media (or the account is no longer
// in its channel).
func (a *account) location(ctx context.Context, r ref) (f mediaFile, ok bool, err error) {
	var res tg.MessagesMessagesClass
	ids := []tg.InputMessageClass{&tg.InputMessageID{ID: r.id}}
	if r.channel != 0 {
		c, ok := a.peers.channel(r.channel)
		if !ok {
			return mediaFile{}, false, nil
		}
		res, err = a.api().ChannelsGetMessages(ctx, &tg.ChannelsGetMessagesRequest{
			Channel: &tg.InputChannel{ChannelID: c.ID, AccessHash: c.AccessHash}, ID: ids})
	} else {
		res, err = a.api().MessagesGetMessages(ctx, ids)
	}
	if err != nil {
		return mediaFile{}, false, err
	}
	var msgs []tg.MessageClass
	switch r := res.(type) {
	case *tg.MessagesMessages:
		msgs = r.Messages
	case *tg.MessagesMessagesSlice:
		msgs = r.Messages
	case *tg.MessagesChannelMessages:
		msgs = r.Messages
	}
	for _, m := range msgs {
		if m, ok := m.(*tg.Message); ok && m.ID == r.id {
			if f, ok := mediaOf(m); ok {
				return f, true, nil
			}
		}
	}
	return mediaFile{}, false, nil
}
