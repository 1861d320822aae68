package telegram

import (
	"context"
	"slices"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// edit carries out out, a correction of the message whose remote id lists
// ids. A correction replaces the whole message, so it carries the
// original's files again: those stay as they are, and only the text
// changes. Where the text was is where it goes: in text messages (parts
// beyond the old ones are sent as new messages, old ones beyond the new
// parts deleted), or in the caption of the first file when the original
// was files alone; a text too long for a caption then goes in new
// messages and the caption is removed. Files are never deleted. A file of
// the correction that is not among the original's (another URL) takes the
// place of one of the original's files it does not carry, in order
// (editMessageMedia), or, with none left, is sent.
//
// Which messages carry files is what the transport recorded of them; the
// others are asked (sortParts) before anything else, so that a file not
// recorded (sent before files were, or whose record expired) is never
// deleted as a surplus part nor sent again.
//
// As in Send, a retry of the job after a step failed for now resumes
// after the steps done: messages sent anew (a text that grew, a message
// deleted meanwhile, a file added) are not sent again.
func (t *Transport) edit(ctx context.Context, chat int64, out transports.Outbound, ids []int) (string, error) {
	recs, err := t.mediaRecords(ctx, chat, ids)
	if err != nil {
		return "", err
	}
	body := out.Body
	if strings.TrimSpace(body) == "" {
		body = ""
	}
	// The messages the corrected message is in, as the steps below yield
	// them: their ids are the correction's remote id, so that later
	// corrections and a retraction reach them all.
	t.mu.Lock()
	final := slices.Clone(t.progress[out.ID].ids)
	t.mu.Unlock()
	requests := 0 // made by this call: the caller paced the first (see Pace)
	paced := func() bool { requests++; return requests > 1 }
	changed := false // the chat shows part of the correction
	fail := func(err error) (string, error) {
		return "", t.failedPart(out.ID, final, changed || len(final) > 0, err)
	}

	partsOf := func() (texts, files []int) {
		for _, id := range ids {
			if recs[id] != "" {
				files = append(files, id)
			} else {
				texts = append(texts, id)
			}
		}
		return texts, files
	}
	texts, files := partsOf()
	edited := map[int]string{} // texts set by sortParts
	if len(final) == 0 && len(texts) > 0 {
		// First attempt: which of texts carry files? Those found are
		// recorded, so a retry needs not ask again.
		found, err := t.sortParts(ctx, chat, texts, split(body, maxText), edited, paced)
		changed = len(edited) > 0
		if err != nil {
			return fail(err)
		}
		for _, id := range found {
			recs[id] = unknownFile
		}
		texts, files = partsOf()
	}
	var parts []string
	inCaption := len(files) > 0 && len(texts) == 0
	caption := ""
	if inCaption && utf16Len(body) <= maxCaption {
		caption = body
	} else {
		parts = split(body, maxText)
	}
	captionOf := func(i int) string {
		if inCaption && i == 0 {
			return caption
		}
		return ""
	}

	now, replace, added := matchFiles(files, recs, out.Media)

	// Replacements first, before any other change: Telegram may refuse
	// one (a voice note), and the correction then changes nothing more.
	// Each is recorded at once, so that a retry does not make it again.
	gone := map[int]bool{}     // files deleted meanwhile: theirs is sent anew
	replaced := map[int]bool{} // with their caption
	for i, id := range files {
		if !replace[i] {
			continue
		}
		if err := t.waitTurn(ctx, chat, paced()); err != nil {
			return fail(err)
		}
		_, err := t.putFile(ctx, now[i], fileDest{chat: chat, replacing: id, caption: captionOf(i)})
		switch {
		case editGone(err):
			gone[id] = true
			continue
		case mediaNotEditable(err):
			pe := err.(*transports.Error)
			return fail(&transports.Error{Kind: transports.KindRejected, Provider: pe.Provider, Code: pe.Code,
				Message: "a correction cannot replace a voice note: " + pe.Message})
		case err != nil && !notModified(err):
			return fail(err)
		}
		changed, replaced[id] = true, true
		if err := t.recordMedia(ctx, chat, []fileRef{{id, urlHash(now[i])}}); err != nil {
			return fail(err)
		}
	}

	// Each step yields one message of the corrected one (a message kept
	// as it is makes no request), in the order of its remote id.
	var steps []func(paced bool) (int, error)
	keep := func(id int) func(bool) (int, error) { return func(bool) (int, error) { return id, nil } }
	send := func(u, c string) func(bool) (int, error) {
		return func(paced bool) (int, error) {
			if err := t.waitTurn(ctx, chat, paced); err != nil {
				return 0, err
			}
			return t.putFile(ctx, u, fileDest{chat: chat, caption: c})
		}
	}
	for i, part := range parts {
		switch {
		case i >= len(texts):
			steps = append(steps, func(paced bool) (int, error) { return t.sendText(ctx, chat, part, paced, 0) })
		case edited[texts[i]] == part:
			steps = append(steps, keep(texts[i]))
		default:
			steps = append(steps, func(paced bool) (int, error) { return t.editPart(ctx, chat, texts[i], part, paced) })
		}
	}
	for i, id := range files {
		switch {
		case gone[id]:
			steps = append(steps, send(now[i], captionOf(i)))
		case inCaption && i == 0 && !replaced[id]:
			steps = append(steps, func(paced bool) (int, error) { return t.editFileCaption(ctx, chat, id, caption, paced) })
		default:
			steps = append(steps, keep(id))
		}
	}
	for _, u := range added {
		steps = append(steps, send(u, ""))
	}
	for i := len(final); i < len(steps); i++ {
		id, err := steps[i](requests > 0)
		if err != nil {
			return fail(err)
		}
		requests++
		final = append(final, id)
	}
	whole := remoteID(chat, final)

	// Every file of the corrected message is recorded anew, with the file
	// it is now, and every part keeps naming its message: as long as the
	// core's record of the correction.
	var refs []fileRef
	for i, id := range files {
		r := recs[id]
		if now[i] != "" {
			r = urlHash(now[i])
		}
		refs = append(refs, fileRef{final[len(parts)+i], r})
	}
	for k, u := range added {
		refs = append(refs, fileRef{final[len(parts)+len(files)+k], urlHash(u)})
	}
	if err := t.recordMedia(ctx, chat, refs); err != nil {
		return fail(err)
	}
	// The messages sent anew are known by the correction's id; the
	// original's keep theirs.
	var fresh, old []int
	for _, id := range final {
		if slices.Contains(ids, id) {
			old = append(old, id)
		} else {
			fresh = append(fresh, id)
		}
	}
	if len(final) > 1 {
		if err := t.recordParts(ctx, chat, fresh, whole); err != nil {
			return fail(err)
		}
	}
	if err := t.refreshParts(ctx, chat, old); err != nil {
		return fail(err)
	}
	t.mu.Lock()
	delete(t.progress, out.ID)
	t.mu.Unlock()
	// Texts beyond the new parts: sortParts found them texts.
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

// matchFiles pairs media, the files of a correction, with files, the
// original's messages that carry files (recs: their records). A file
// carried again keeps its place; the others take, in order, the places of
// the original's files not carried, replacing each whose URL is known (one
// whose URL is not is taken for the same), and those left are added. now
// is the correction's file in each place ("" if none), replace where the
// file is to be replaced.
func matchFiles(files []int, recs map[int]string, media []string) (now []string, replace []bool, added []string) {
	now = make([]string, len(files))
	for _, u := range media {
		h, at := urlHash(u), -1
		for i, id := range files {
			if now[i] == "" && recs[id] == h {
				at = i
				break
			}
		}
		if at >= 0 {
			now[at] = u
		} else {
			added = append(added, u)
		}
	}
	replace = make([]bool, len(files))
	for i, id := range files {
		if now[i] == "" && len(added) > 0 {
			now[i], added = added[0], added[1:]
			replace[i] = recs[id] != unknownFile
		}
	}
	return now, replace, added
}

// sortParts finds out which of texts, the messages of a correction's
// original not recorded as files, carry files after all, by a request
// that does what the correction wants of each either way: the i-th gets
// parts[i] as its text (Telegram refuses editMessageText on a file's
// message), and those beyond the parts, surplus text the correction
// deletes, lose their caption (Telegram refuses editMessageCaption on a
// text; a file is kept, its text being in the correction's text
// messages). It records the files found and returns them, and notes in
// edited the texts it set. paced tells, for each request, whether it
// waits for the chat's turn.
func (t *Transport) sortParts(ctx context.Context, chat int64, texts []int, parts []string, edited map[int]string, paced func() bool) ([]int, error) {
	var files []int
	for i, id := range texts {
		if err := t.waitTurn(ctx, chat, paced()); err != nil {
			return nil, err
		}
		p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(id)}
		if i < len(parts) {
			p["text"] = parts[i]
			err := t.call(ctx, "editMessageText", p, nil)
			switch {
			case err == nil, notModified(err):
				edited[id] = parts[i]
			case noText(err):
				files = append(files, id)
			case !editGone(err): // gone: the correction sends it anew
				return nil, err
			}
			continue
		}
		err := t.call(ctx, "editMessageCaption", p, nil)
		switch {
		case err == nil, notModified(err):
			files = append(files, id)
		case !noCaption(err) && !editGone(err):
			return nil, err
		}
	}
	refs := make([]fileRef, len(files))
	for i, id := range files {
		refs[i] = fileRef{id, unknownFile}
	}
	return files, t.recordMedia(ctx, chat, refs)
}

// editPart sets the text of message id to part and returns the message
// that holds it: id, or a new message if id was deleted meanwhile. A
// message that turns out to carry a file gets part as its caption if it
// fits.
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
