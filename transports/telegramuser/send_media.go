package telegramuser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// uploadTimeout bounds fetching and uploading one attachment.
const uploadTimeout = 2 * time.Minute

// sendMedia sends out's attachments to peer, the first with out.Body as
// its caption, each fetched by the gateway under the fetch policy (an
// attachment's URL may be private to the user's server) and uploaded with
// upload.saveFilePart. It returns the first message's id.
func (a *account) sendMedia(ctx context.Context, to tg.InputPeerClass, out transports.Outbound) (string, error) {
	first := ""
	for k, raw := range out.Media {
		caption := ""
		if k == 0 {
			caption = out.Body
		}
		media, err := a.upload(ctx, raw)
		if err != nil {
			return first, err
		}
		req := &tg.MessagesSendMediaRequest{Peer: to, Media: media, Message: caption, RandomID: randomID(out.ID + "/" + strconv.Itoa(k))}
		if id, ok := a.boxID(out.ReplyTo); ok && k == 0 {
			req.ReplyTo = &tg.InputReplyToMessage{ReplyToMsgID: id}
		}
		res, err := a.api().MessagesSendMedia(ctx, req)
		if err != nil {
			return first, sendError(err)
		}
		id, ok := sentID(res, req.RandomID)
		if !ok {
			return first, &transports.Error{Kind: transports.KindUnknown, Provider: "telegram", Message: "Telegram's answer has no message id"}
		}
		a.ours.add(id)
		if first == "" {
			first = a.msgID(id)
		}
	}
	return first, nil
}

// upload fetches an attachment and uploads it: a photo if it is a JPEG or
// PNG, a document otherwise.
func (a *account) upload(ctx context.Context, raw string) (tg.InputMediaClass, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, rejected("an attachment's URL is not an http or https URL")
	}
	if err := a.t.policy.Check(ctx, raw); err != nil {
		return nil, a.fetchFailed(err, u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, rejected("bad attachment URL")
	}
	resp, err := a.t.fetch.Do(req)
	if err != nil {
		return nil, a.fetchFailed(err, u.Host)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram",
			Message: fmt.Sprintf("fetching the attachment: HTTP %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return nil, rejected(fmt.Sprintf("fetching the attachment: HTTP %d", resp.StatusCode))
	case resp.ContentLength > maxMedia:
		return nil, rejected(fmt.Sprintf("the attachment is larger than %d MB", maxMedia>>20))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMedia+1))
	if err != nil {
		return nil, a.fetchFailed(err, u.Host)
	}
	if len(data) > maxMedia {
		return nil, rejected(fmt.Sprintf("the attachment is larger than %d MB", maxMedia>>20))
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		name = "file"
	}
	f, err := uploader.NewUploader(a.api()).FromBytes(ctx, name, data)
	if err != nil {
		return nil, sendError(err)
	}
	if ctype == "image/jpeg" || ctype == "image/png" {
		return &tg.InputMediaUploadedPhoto{File: f}, nil
	}
	return &tg.InputMediaUploadedDocument{File: f, MimeType: ctype,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}}}, nil
}

// fetchFailed classifies a failed fetch of a user's attachment: an address
// the policy refuses is a permanent failure, anything else temporary; the
// text says nothing of the network (the details go to the log).
func (a *account) fetchFailed(err error, host string) *transports.Error {
	if errors.Is(err, transports.ErrNotAllowed) {
		a.t.log.Warn("attachment refused: its address is not allowed", "host", host)
		return transports.AttachmentNotAllowed("Telegram")
	}
	a.t.log.Warn("fetching an attachment failed", "host", host, "err", err)
	return &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram", Message: "the attachment could not be fetched"}
}
