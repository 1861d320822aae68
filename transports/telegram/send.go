package telegram

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// maxText is the longest text of one Telegram message, in UTF-16 units.
const maxText = 4096

// sentMessage is the part of a Bot API Message that Send needs.
type sentMessage struct {
	MessageID int `json:"message_id"`
}

// Send implements transports.Transport. A long text is sent as several
// messages; the remote id lists them all ("CHAT:ID,ID..."). A correction
// (out.Replaces set) edits them (see edit); a retraction deletes them. A reply answers
// the first message of out.ReplyTo. When a retry follows a partial send, the
// parts already sent are not sent again.
func (t *Transport) Send(ctx context.Context, out transports.Outbound) (string, error) {
	if out.Empty() {
		return "", transports.ErrEmpty("Telegram")
	}
	chat := chatID(out.To)
	if out.Retracts != "" {
		return "", t.retract(ctx, chat, out.Retracts)
	}
	if out.Replaces != "" {
		// A correction replaces the whole message, so it carries the
		// original's attachments again: they are not sent anew.
		if c, ids, ok := parseRemoteID(out.Replaces); ok && c == chat {
			return t.edit(ctx, chat, out, ids)
		}
	}
	if len(out.Media) > 0 {
		return t.sendMedia(ctx, chat, out)
	}
	if out.ReactTo != "" {
		return "", t.react(ctx, chat, out.ReactTo, out.Reactions)
	}
	replyTo := 0
	if c, ids, ok := parseRemoteID(out.ReplyTo); ok && c == chat && len(ids) > 0 {
		replyTo = ids[0]
	}
	parts := split(out.Body, maxText)
	t.mu.Lock()
	ids := t.progress[out.ID].ids
	t.mu.Unlock()
	for i := len(ids); i < len(parts); i++ {
		// The caller paced the first part (see Pace); the rest wait here.
		reply := 0
		if i == 0 {
			reply = replyTo
		}
		id, err := t.sendText(ctx, chat, parts[i], i > 0, reply)
		if err != nil {
			return "", t.failedPart(out.ID, ids, len(ids) > 0, err)
		}
		ids = append(ids, id)
	}
	rid := remoteID(chat, ids)
	if len(ids) > 1 {
		if err := t.recordParts(ctx, chat, ids, rid); err != nil {
			return "", t.failedPart(out.ID, ids, len(ids) > 0, err)
		}
	}
	t.mu.Lock()
	delete(t.progress, out.ID)
	t.mu.Unlock()
	return rid, nil
}

// partsKept is how long the transport remembers the message that a part of
// a long one belongs to: as long as the core keeps its records of sends
// (14 days).
const partsKept = 14 * 24 * time.Hour

// partKey is where the id Send returned for the message that the Telegram
// message key (CHAT:ID) is a part of is kept in the transport's state.
func partKey(key string) string { return "part:" + key }

// recordParts remembers that each of ids in chat is a part of whole, the
// remote id of several messages, so that a reply or a reaction to any of
// them refers to whole, the id the core knows. (A message sent alone is
// known by its own id: nothing is recorded for it.) A failure is
// temporary: the job is retried, and the retry records the parts again
// without sending them.
func (t *Transport) recordParts(ctx context.Context, chat int64, ids []int, whole string) error {
	expires := time.Now().Add(partsKept)
	for _, id := range ids {
		if err := t.state.SetUntil(ctx, partKey(messageKey(chat, id)), whole, expires); err != nil {
			return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: "recording the parts of a message sent: " + err.Error()}
		}
	}
	return nil
}

// wholeOf returns the id Send returned for the message that key (CHAT:ID)
// is a part of, or key itself, a message of its own or someone else's.
func (t *Transport) wholeOf(ctx context.Context, key string) (string, error) {
	whole, err := t.state.Get(ctx, partKey(key))
	if err != nil || whole == "" {
		return key, err
	}
	return whole, nil
}

// partial is a job's parts sent before one failed for now.
type partial struct {
	ids []int     // their message ids
	at  time.Time // when the last one failed
}

// progressKept is how long the parts of a job are kept after its last
// failure: longer than the core retries a job (retry_for is at most 168h),
// so a job the core gave up on is forgotten here too.
const progressKept = 8 * 24 * time.Hour

// failedPart records, after a part of job id failed with err, the parts
// sent before it (ids) for the retry if err is temporary, or forgets them
// if the job will not be retried. It returns err, marked PartSent if
// partSent: the chat shows part of the message already.
func (t *Transport) failedPart(id string, ids []int, partSent bool, err error) error {
	if pe, ok := err.(*transports.Error); ok && partSent {
		e := *pe
		e.PartSent = true
		err = &e
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if pe, ok := err.(*transports.Error); !ok || !pe.Temporary() {
		delete(t.progress, id)
		return err
	}
	now := time.Now()
	for k, p := range t.progress {
		if now.Sub(p.at) > progressKept {
			delete(t.progress, k)
		}
	}
	t.progress[id] = partial{ids: ids, at: now}
	return err
}

// Pace implements transports.Pacer: it waits for the chat's turn.
func (t *Transport) Pace(ctx context.Context, out transports.Outbound) error {
	return t.pace.wait(ctx, chatID(out.To))
}

// waitTurn waits for chat's turn if paced. Its failure (ctx ended) sent
// nothing.
func (t *Transport) waitTurn(ctx context.Context, chat int64, paced bool) error {
	if !paced {
		return nil
	}
	if err := t.pace.wait(ctx, chat); err != nil {
		return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
			Message: "waiting for the rate limit: " + err.Error(), NotSent: true}
	}
	return nil
}

// sendText sends one message of at most maxText, waiting for its turn first
// if paced, as a reply to message replyTo unless it is 0.
func (t *Transport) sendText(ctx context.Context, chat int64, text string, paced bool, replyTo int) (int, error) {
	if err := t.waitTurn(ctx, chat, paced); err != nil {
		return 0, err
	}
	var m sentMessage
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "text": text}
	if replyTo != 0 {
		p["reply_to_message_id"] = strconv.Itoa(replyTo)
		p["allow_sending_without_reply"] = "true" // the original may be gone
	}
	err := t.call(ctx, "sendMessage", p, &m)
	return m.MessageID, err
}

// retract deletes the messages of remote id (XEP-0424 retraction). One
// already gone counts as deleted.
func (t *Transport) retract(ctx context.Context, chat int64, remote string) error {
	c, ids, ok := parseRemoteID(remote)
	if !ok || c != chat {
		return &transports.Error{Kind: transports.KindRejected, Provider: "Telegram", Message: "unknown message to delete"}
	}
	for _, id := range ids {
		err := t.call(ctx, "deleteMessage", tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(id)}, nil)
		var pe *transports.Error
		if err != nil && !(errors.As(err, &pe) && strings.Contains(pe.Message, "message to delete not found")) {
			return err
		}
	}
	return nil
}

// ReceiptOnAccept implements transports.ReceiptOnAccept: the Bot API has no
// delivery reports, so a message accepted by sendMessage counts as received.
func (t *Transport) ReceiptOnAccept() {}

// Typing implements transports.Typer with sendChatAction "typing", at most
// once every few seconds per chat.
func (t *Transport) Typing(ctx context.Context, _, to transports.Addr) error {
	chat := chatID(to)
	if !t.pace.allowTyping(chat) {
		return nil
	}
	return t.call(ctx, "sendChatAction", tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "action": "typing"}, nil)
}

// remoteID is the id Send returns: the chat, then the message ids.
func remoteID(chat int64, ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return fmt.Sprintf("%d:%s", chat, strings.Join(s, ","))
}

// parseRemoteID reads a remote id: one that Send returned ("CHAT:ID,ID..."),
// or the id of an XMPP stanza of a message received from Telegram, which
// the core passes on for a reply or a reaction to it: "CHAT:ID" for its
// text, "CHAT:ID-mN" for its N-th attachment, "CHAT:ID:eU" for an edit of
// it (update U), "CHAT:ID:eU-mN" for the edit's attachment. Each is
// message ID of CHAT.
func parseRemoteID(s string) (int64, []int, bool) {
	c, list, ok := strings.Cut(s, ":")
	if !ok {
		return 0, nil, false
	}
	chat, err := strconv.ParseInt(c, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	if m := stanzaSuffix.FindStringSubmatchIndex(list); m != nil {
		list = list[:m[2]]
	}
	var ids []int
	for _, p := range strings.Split(list, ",") {
		id, err := strconv.Atoi(p)
		if err != nil {
			return 0, nil, false
		}
		ids = append(ids, id)
	}
	return chat, ids, true
}

// stanzaSuffix matches what the stanza id of a message received from
// Telegram adds to its message id: an edit's update, an attachment's index.
var stanzaSuffix = regexp.MustCompile(`^[0-9]+((?::e[0-9]+)?(?:-m[0-9]+)?)$`)

// split cuts text into parts of at most limit UTF-16 units: see
// transports.SplitText. It never makes a part of white space alone, which
// Telegram refuses ("message text is empty").
func split(text string, limit int) []string { return transports.SplitText(text, limit) }

func utf16Len(s string) int { return transports.UTF16Len(s) }
