package telegramuser

import (
	"bufio"
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
		r, err := a.sendPending(ctx, out.To, chat, caption, req.RandomID, func() (tg.UpdatesClass, error) {
			return a.api().MessagesSendMedia(ctx, req)
		})
		if err != nil {
			return first, err
		}
		if first == "" {
			first = a.msgID(r)
		}
	}
	return first, nil
}

// wholeUploads is how many attachments of unknown size (no
// Content-Length) may be held whole in memory, up to maxMedia each, for
// their uploads at once: Telegram needs a big file's size before its first
// part. Those of a known size are streamed.
const wholeUploads = 2

// errFetch is the error of an attachment whose body failed or ended early.
var errFetch = &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: "the attachment could not be fetched"}

// upload fetches an attachment (transports.FetchAttachment: under the
// fetch policy) and uploads it: a photo if it is a JPEG or PNG, a document
// otherwise.
func (a *account) upload(ctx context.Context, raw string) (tg.InputMediaClass, error) {
	att, fe := transports.FetchAttachment(ctx, a.t.policy, a.t.fetch, raw, "Telegram", maxMedia, a.t.log)
	if fe != nil {
		return nil, fe
	}
	defer att.Body.Close()
	body := bufio.NewReaderSize(att.Body, 512)
	head, _ := body.Peek(512)
	ctype, _, _ := mime.ParseMediaType(att.Type)
	if ctype == "" {
		ctype = http.DetectContentType(head)
	}
	name := att.Name
	if name == "" {
		name = "file"
	}
	up := uploader.NewUploader(a.api())
	var (
		f   tg.InputFileClass
		err error
	)
	if att.Size >= 0 { // at most maxMedia: FetchAttachment refused more
		f, err = up.Upload(ctx, uploader.NewUpload(name, &exactly{r: body, left: att.Size}, att.Size))
	} else {
		select {
		case a.t.whole <- struct{}{}:
		case <-ctx.Done():
			return nil, &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "waiting for other attachments' uploads: " + ctx.Err().Error()}
		}
		f, err = a.uploadWhole(ctx, up, name, body)
		<-a.t.whole
	}
	if err != nil {
		return nil, sendError(err)
	}
	if ctype == "image/jpeg" || ctype == "image/png" {
		return &tg.InputMediaUploadedPhoto{File: f}, nil
	}
	return &tg.InputMediaUploadedDocument{File: f, MimeType: ctype,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}}}, nil
}

// uploadWhole reads body whole, up to maxMedia, and uploads it.
func (a *account) uploadWhole(ctx context.Context, up *uploader.Uploader, name string, body io.Reader) (tg.InputFileClass, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxMedia+1))
	if err != nil {
		return nil, errFetch
	}
	if len(data) > maxMedia {
		return nil, transports.AttachmentTooLarge("Telegram", maxMedia)
	}
	return up.FromBytes(ctx, name, data)
}

// exactly reads the left bytes an attachment declared, and fails with
// errFetch if its body fails or ends before them.
type exactly struct {
	r    io.Reader
	left int64
}

func (e *exactly) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left == 0:
		return n, io.EOF
	case err != nil:
		return n, errFetch
	}
	return n, nil
}
