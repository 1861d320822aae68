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

// Avatar implements transports.Avatars: a user's profile photo, read with
// upload.getFile by any signed-in account that knows the user.
func (t *Transport) Avatar(ctx context.Context, remote transports.Addr) ([]byte, string, error) {
	t.mu.Lock()
	var a *account
	var u *tg.User
	for _, acc := range t.accounts {
		if acc.self.Load() == 0 {
			continue
		}
		if u = acc.peers.user(remote); u != nil {
			a = acc
			break
		}
	}
	t.mu.Unlock()
	if a == nil {
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
