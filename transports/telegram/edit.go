package telegram

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// mediaKey is where the transport notes, in its state, that the Telegram
// message key (CHAT:ID) is one it sent with a file: its text is a caption.
func mediaKey(key string) string { return "media:" + key }

// recordMedia notes that each of ids in chat carries a file, so that a
// correction changes its caption (editMessageCaption: Telegram refuses
// editMessageText on it) and never deletes it as a surplus part of the
// text. Kept as long as the parts (partsKept). A failure is temporary:
// the retry records them again without sending them.
func (t *Transport) recordMedia(ctx context.Context, chat int64, ids []int) error {
	expires := time.Now().Add(partsKept)
	for _, id := range ids {
		if err := t.state.SetUntil(ctx, mediaKey(messageKey(chat, id)), "1", expires); err != nil {
			return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "recording the files of a message sent: " + err.Error()}
		}
	}
	return nil
}

// mediaParts splits ids, the messages of a remote id, into those of its
// text and those that carry a file, each in order.
func (t *Transport) mediaParts(ctx context.Context, chat int64, ids []int) (texts, files []int, err error) {
	for _, id := range ids {
		v, err := t.state.Get(ctx, mediaKey(messageKey(chat, id)))
		if err != nil {
			return nil, nil, &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "reading the files of a message sent: " + err.Error()}
		}
		if v != "" {
			files = append(files, id)
		} else {
			texts = append(texts, id)
		}
	}
	return texts, files, nil
}

// edit carries out out, a correction of the message whose remote id lists
// ids. A correction replaces the whole message, so it carries the
// original's files again: they stay as they are, and only the text
// changes. Where the text was is where it goes: in text messages (parts
// beyond the old ones are sent as new messages, old ones beyond the new
// parts deleted), or in the caption of the first file when the original
// was files alone; a text too long for a caption then goes in new
// messages and the caption is removed. Files are never deleted; those the
// correction carries beyond the original's (a file added) are sent.
//
// As in Send, a retry of the job after a step failed for now resumes
// after the steps done: messages sent anew (a text that grew, a message
// deleted meanwhile, a file added) are not sent again.
func (t *Transport) edit(ctx context.Context, chat int64, out transports.Outbound, ids []int) (string, error) {
	texts, files, err := t.mediaParts(ctx, chat, ids)
	if err != nil {
		return "", err
	}
	body := out.Body
	if strings.TrimSpace(body) == "" {
		body = ""
	}
	var parts []string
	inCaption := len(files) > 0 && len(texts) == 0
	caption := ""
	if inCaption && utf16Len(body) <= maxCaption {
		caption = body
	} else {
		parts = split(body, maxText)
	}

	// Each step yields one message of the corrected one (a message kept
	// as it is makes no request); its remote id lists them in the steps'
	// order.
	var steps []func(paced bool) (int, error)
	for i, part := range parts {
		if i < len(texts) {
			steps = append(steps, func(paced bool) (int, error) { return t.editPart(ctx, chat, texts[i], part, paced) })
		} else {
			steps = append(steps, func(paced bool) (int, error) { return t.sendText(ctx, chat, part, paced, 0) })
		}
	}
	kept := files
	if inCaption {
		kept = files[1:]
		steps = append(steps, func(paced bool) (int, error) { return t.editFileCaption(ctx, chat, files[0], caption, paced) })
	}
	for _, id := range kept {
		steps = append(steps, func(bool) (int, error) { return id, nil })
	}
	added := out.Media[min(len(files), len(out.Media)):]
	for _, u := range added {
		steps = append(steps, func(paced bool) (int, error) {
			if err := t.waitTurn(ctx, chat, paced); err != nil {
				return 0, err
			}
			return t.sendFile(ctx, chat, u, "", 0)
		})
	}

	// The messages the corrected message is in, once done: their ids are
	// the correction's remote id, so that later corrections and a
	// retraction reach them all.
	t.mu.Lock()
	final := slices.Clone(t.progress[out.ID].ids)
	t.mu.Unlock()
	fail := func(err error) (string, error) { return "", t.failedPart(out.ID, final, len(final) > 0, err) }
	requests := 0
	for i := len(final); i < len(steps); i++ {
		// The caller paced the first request (see Pace); the rest wait.
		id, err := steps[i](requests > 0)
		if err != nil {
			return fail(err)
		}
		requests++
		final = append(final, id)
	}
	whole := remoteID(chat, final)
	if len(added) > 0 {
		if err := t.recordMedia(ctx, chat, final[len(final)-len(added):]); err != nil {
			return fail(err)
		}
	}
	// The messages sent anew are known by the correction's id; the
	// original's keep theirs.
	var fresh []int
	for _, id := range final {
		if !slices.Contains(ids, id) {
			fresh = append(fresh, id)
		}
	}
	if len(final) > 1 {
		if err := t.recordParts(ctx, chat, fresh, whole); err != nil {
			return fail(err)
		}
	}
	t.mu.Lock()
	delete(t.progress, out.ID)
	t.mu.Unlock()
	for _, id := range texts[min(len(parts), len(texts)):] {
		err := t.call(ctx, "deleteMessage", tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(id)}, nil)
		if err != nil {
			t.log.Info("deleting the surplus part of an edited message failed", "chat", chat, "err", err)
		}
	}
	if len(final) == 0 {
		return out.Replaces, nil
	}
	return whole, nil
}

// editPart sets the text of message id to part and returns the message
// that holds it: id, or a new message if id was deleted meanwhile. A
// message that turns out to carry a file (sent before files were
// recorded) gets part as its caption if it fits.
func (t *Transport) editPart(ctx context.Context, chat int64, id int, part string, paced bool) (int, error) {
	if err := t.waitTurn(ctx, chat, paced); err != nil {
		return 0, err
	}
	err := t.call(ctx, "editMessageText", tgbotapi.Params{
		"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(id), "text": part}, nil)
	switch {
	case err == nil, notModified(err):
		return id, nil
	case editGone(err):
		// Deleted meanwhile: the correction goes out as a new message.
		return t.sendText(ctx, chat, part, true, 0)
	case noText(err) && utf16Len(part) <= maxCaption:
		return t.editFileCaption(ctx, chat, id, part, true)
	}
	return 0, err
}

// editFileCaption sets the caption of message id, which carries a file, to
// caption ("" removes it) and returns id; if the message was deleted
// meanwhile, the caption goes out as a new text message instead, whose id
// it returns (id itself for no caption: nothing is left to show).
func (t *Transport) editFileCaption(ctx context.Context, chat int64, id int, caption string, paced bool) (int, error) {
	if err := t.waitTurn(ctx, chat, paced); err != nil {
		return 0, err
	}
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(id)}
	if caption != "" {
		p["caption"] = caption
	}
	err := t.call(ctx, "editMessageCaption", p, nil)
	switch {
	case err == nil, notModified(err):
		return id, nil
	case editGone(err) && caption != "":
		return t.sendText(ctx, chat, caption, true, 0)
	case editGone(err):
		return id, nil
	}
	return 0, err
}
