package telegramuser

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// uploadTimeout bounds fetching and uploading one attachment.
const uploadTimeout = 2 * time.Minute

// sendMedia sends out's attachments to the chat to, the first with out.Body as
// its caption, each fetched by the gateway under the fetch policy (an
// attachment's URL may be private to the user's server) and uploaded with
// upload.saveFilePart. It returns the first message's id.
func (a *account) sendMedia(ctx context.Context, to tg.InputPeerClass, chat peer, out transports.Outbound) (string, error) {
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
		if r, ok := a.refTo(chat, out.ReplyTo); ok && k == 0 {
			req.ReplyTo = &tg.InputReplyToMessage{ReplyToMsgID: r.id}
		}
		res, err := a.api().MessagesSendMedia(ctx, req)
		if err != nil {
			return first, sendError(err)
		}
		id, ok := sentID(res, req.RandomID)
		if !ok {
			return first, &transports.Error{Kind: transports.KindUnknown, Provider: "telegram", Message: "Telegram's answer has no message id"}
		}
		r := ref{channel: chat.channel, id: id}
		a.ours.add(r)
		if first == "" {
			first = a.msgID(r)
		}
	}
	return first, nil
}

// upload fetches an attachment (transports.FetchAttachment: under the
// fetch policy) and uploads it: a photo if it is a JPEG or PNG, a document
// otherwise.
func (a *account) upload(ctx context.Context, raw string) (tg.InputMediaClass, error) {
	att, fe := transports.FetchAttachment(ctx, a.t.policy, a.t.fetch, raw, "Telegram", maxMedia, a.t.log)
	if fe != nil {
		return nil, fe
	}
	defer att.Body.Close()
	data, err := io.ReadAll(io.LimitReader(att.Body, maxMedia+1))
	if err != nil {
		return nil, &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: "the attachment could not be fetched"}
	}
	if len(data) > maxMedia {
		return nil, transports.AttachmentTooLarge("Telegram", maxMedia)
	}
	ctype, _, _ := mime.ParseMediaType(att.Type)
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	name := att.Name
	if name == "" {
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
