package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"xmppgw/transports"
)

// mediaKey is where the transport notes, in its state, that the Telegram
// message key (CHAT:ID) is one it sent with a file: its text is a caption.
// The value is the hash of the file's URL (urlHash), or unknownFile.
func mediaKey(key string) string { return "media:" + key }

// unknownFile is the record of a file whose URL is not known: recorded
// before URLs were, or found out by Telegram's answer to an edit.
const unknownFile = "1"

// urlHash identifies a file by its URL in the records of files sent, so
// that a correction carrying another file is told from one carrying the
// same file again.
func urlHash(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:16])
}

// fileRef is a message that carries a file, and the file's record.
type fileRef struct {
	id     int
	record string // urlHash of its URL, or unknownFile
}

// recordMedia notes that each of files in chat carries a file, so that a
// correction changes its caption (editMessageCaption: Telegram refuses
// editMessageText on it), never deletes it as a surplus part of the text,
// and replaces it only when the correction carries another file. Kept as
// long as the parts (partsKept), from the last send or correction that
// reached it. A failure is temporary: the retry records them again
// without sending them.
func (t *Transport) recordMedia(ctx context.Context, chat int64, files []fileRef) error {
	expires := time.Now().Add(partsKept)
	for _, f := range files {
		if err := t.state.SetUntil(ctx, mediaKey(messageKey(chat, f.id)), f.record, expires); err != nil {
			return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "recording the files of a message sent: " + err.Error()}
		}
	}
	return nil
}

// mediaRecords returns the record of each of ids in chat that is known to
// carry a file.
func (t *Transport) mediaRecords(ctx context.Context, chat int64, ids []int) (map[int]string, error) {
	recs := map[int]string{}
	for _, id := range ids {
		v, err := t.state.Get(ctx, mediaKey(messageKey(chat, id)))
		if err != nil {
			return nil, &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "reading the files of a message sent: " + err.Error()}
		}
		if v != "" {
			recs[id] = v
		}
	}
	return recs, nil
}

// refreshParts keeps the records of ids, parts of a message a correction
// reached, as long as the core's record of the correction (partsKept from
// now): a part's record names the message it belongs to still.
func (t *Transport) refreshParts(ctx context.Context, chat int64, ids []int) error {
	expires := time.Now().Add(partsKept)
	for _, id := range ids {
		key := partKey(messageKey(chat, id))
		whole, err := t.state.Get(ctx, key)
		if err == nil && whole != "" {
			err = t.state.SetUntil(ctx, key, whole, expires)
		}
		if err != nil {
			return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "recording the parts of a message sent: " + err.Error()}
		}
	}
	return nil
}
