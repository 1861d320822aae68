package telegram

import (
	"context"
	"io"
	"net/http"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// maxAvatar bounds a profile photo passed on in a vCard.
const maxAvatar = 1 << 20

// Avatar implements transports.Avatars: a person's latest profile photo
// (getUserProfilePhotos), or a group's photo (getChat), at the largest size
// under maxAvatar. The bot sees every chat the same way, whoever asks.
func (t *Transport) Avatar(ctx context.Context, _ string, remote transports.Addr) ([]byte, string, error) {
	chat := chatID(remote)
	var fileID string
	if chat > 0 {
		var photos struct {
			Photos [][]struct {
				FileID   string `json:"file_id"`
				FileSize int    `json:"file_size"`
			} `json:"photos"`
		}
		err := t.call(ctx, "getUserProfilePhotos", tgbotapi.Params{"user_id": strconv.FormatInt(chat, 10), "limit": "1"}, &photos)
		if err != nil {
			return nil, "", err
		}
		if len(photos.Photos) == 0 {
			return nil, "", nil
		}
		for _, size := range photos.Photos[0] { // smallest first
			if size.FileSize <= maxAvatar {
				fileID = size.FileID
			}
		}
	} else {
		var c struct {
			Photo *struct {
				BigFileID string `json:"big_file_id"`
			} `json:"photo"`
		}
		if err := t.call(ctx, "getChat", tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10)}, &c); err != nil {
			return nil, "", err
		}
		if c.Photo != nil {
			fileID = c.Photo.BigFileID
		}
	}
	if fileID == "" {
		return nil, "", nil
	}
	var f telegramFile
	if err := t.call(ctx, "getFile", tgbotapi.Params{"file_id": fileID}, &f); err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.s.APIURL+"/file/bot"+t.s.Token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, "", &transports.Error{Kind: transports.KindUnknown, Provider: "Telegram", Message: "bad file path"}
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, "", &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: t.scrub(err.Error())}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: "photo download: " + resp.Status}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAvatar+1))
	if err != nil || len(data) > maxAvatar {
		return nil, "", &transports.Error{Kind: transports.KindRejected, Provider: "Telegram", Message: "profile photo too large or cut short"}
	}
	return data, http.DetectContentType(data), nil
}
