package telegramuser

import (
	"bytes"
	"context"
	"net/http"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

var _ transports.Avatars = (*Transport)(nil)

// maxAvatar caps a profile photo read for a vCard.
const maxAvatar = 1 << 20

// Avatar implements transports.Avatars: a Telegram user's profile photo,
// read with upload.getFile by user's own signed-in account, if it knows
// remote; nothing otherwise (another account's contacts are not user's to
// see).
func (t *Transport) Avatar(ctx context.Context, user string, remote transports.Addr) ([]byte, string, error) {
	a := t.account(user)
	if a == nil || a.self.Load() == 0 {
		return nil, "", nil
	}
	u := a.peers.user(remote)
	if u == nil {
		return nil, "", nil
	}
	photo, ok := u.Photo.(*tg.UserProfilePhoto)
	if !ok {
		return nil, "", nil
	}
	peer, ok := a.peers.input(remote)
	if !ok {
		return nil, "", nil
	}
	var buf bytes.Buffer
	loc := &tg.InputPeerPhotoFileLocation{Big: true, Peer: peer, PhotoID: photo.PhotoID}
	if _, err := downloader.NewDownloader().Download(a.api(), loc).Stream(ctx, &limitWriter{w: &buf, left: maxAvatar}); err != nil {
		return nil, "", sendError(err)
	}
	data := buf.Bytes()
	return data, http.DetectContentType(data), nil
}

// limitWriter fails writes past its limit.
type limitWriter struct {
	w    *bytes.Buffer
	left int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, errTooLarge
	}
	l.left -= len(p)
	return l.w.Write(p)
}

var errTooLarge = rejected("the profile photo is too large")
