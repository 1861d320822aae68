package telegramuser

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/transports"
)

// Send implements transports.Transport: out goes from the account whose
// Telegram user id is out.Account. A message is sent with a random_id
// derived from out.ID, so Telegram takes a retried send once. A wait
// Telegram asks for (FLOOD_WAIT_X, ...) is not waited out here, where the
// core holds one of its send slots: it is returned at once, rate-limited
// with the wait, and the account's sends are paused until it ends (each
// returns the time left, without a request); a supergroup's slow mode
// (SLOWMODE_WAIT_X) holds up only the sends it answers.
func (t *Transport) Send(ctx context.Context, out transports.Outbound) (string, error) {
	if out.Empty() {
		return "", transports.ErrEmpty("telegram")
	}
	a := t.byID(out.Account)
	if a == nil {
		return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram",
			Message: "the Telegram session of " + string(out.Account) + " is not running (logged out, or restarting)"}
	}
	if left := a.sendsPaused(); left > 0 {
		return "", &transports.Error{Kind: transports.KindRateLimited, Provider: "telegram", Code: "FLOOD_WAIT",
			Message: "Telegram asked this account to wait before sending more; " + left.Round(time.Second).String() + " left", RetryAfter: left}
	}
	// Telegram's waits come back at once, as rate-limited errors: the
	// core waits without holding a send slot.
	ctx = noFloodWait(ctx)
	if len(out.Media) > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, uploadTimeout)
		defer cancel()
	} else {
		ctx = perAttempt(ctx, rpcTimeout) // each request within rpcTimeout
	}
	id, err := a.send(ctx, out)
	var te *transports.Error
	if errors.As(err, &te) {
		switch {
		case te.Kind == transports.KindAuth:
			// The session may be revoked: the follower finds out and
			// tells the user.
			select {
			case a.poke <- struct{}{}:
			default:
			}
		case te.Kind == transports.KindRateLimited && te.RetryAfter > 0 && te.Code != "SLOWMODE_WAIT":
			// The account's wait (a slow mode is one supergroup's).
			a.pauseSends(te.RetryAfter)
		}
	}
	return id, err
}

// pauseSends makes the account's sends wait d (at least: a longer pause
// stays).
func (a *account) pauseSends(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		old := a.sendPause.Load()
		if old >= until || a.sendPause.CompareAndSwap(old, until) {
			return
		}
	}
}

// sendsPaused is how long the account's sends still wait (pauseSends),
// or 0.
func (a *account) sendsPaused() time.Duration {
	return time.Until(time.Unix(0, a.sendPause.Load()))
}

// send is Send from the account a.
func (a *account) send(ctx context.Context, out transports.Outbound) (string, error) {
	to, err := a.resolve(ctx, out.To)
	if err != nil {
		return "", sendError(err)
	}
	chat, _ := parsePeer(out.To) // resolve read it
	api := a.api()
	notOurs := rejected("that message is not one of this account's in that chat")
	switch {
	case out.Retracts != "":
		r, ok := a.refTo(chat, out.Retracts)
		if !ok {
			return "", notOurs
		}
		if ch, ok := inputChannel(to); ok {
			_, err = api.ChannelsDeleteMessages(ctx, &tg.ChannelsDeleteMessagesRequest{Channel: ch, ID: []int{r.id}})
		} else {
			_, err = api.MessagesDeleteMessages(ctx, &tg.MessagesDeleteMessagesRequest{Revoke: true, ID: []int{r.id}})
		}
		if err != nil {
			return "", sendError(err)
		}
		return "", nil // no message of its own (see transports.Transport.Send)
	case out.ReactTo != "":
		r, ok := a.refTo(chat, out.ReactTo)
		if !ok {
			return "", notOurs
		}
		req := &tg.MessagesSendReactionRequest{Peer: to, MsgID: r.id}
		for _, e := range out.Reactions {
			req.Reaction = append(req.Reaction, &tg.ReactionEmoji{Emoticon: e})
		}
		if _, err := api.MessagesSendReaction(ctx, req); err != nil {
			return "", sendError(err)
		}
		return "", nil // no message of its own (see transports.Transport.Send)
	case out.Replaces != "":
		r, ok := a.refTo(chat, out.Replaces)
		if !ok {
			return "", notOurs
		}
		// The text is recorded once Telegram has taken it; until then a
		// pending marker covers it (as a send's).
		o, key := a.ours(), editKey(r, out.Body)
		if err := o.pend(ctx, key, 0); err != nil {
			return "", &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram", Message: "recording the edit failed: " + err.Error()}
		}
		_, err := api.MessagesEditMessage(ctx, &tg.MessagesEditMessageRequest{Peer: to, ID: r.id, Message: out.Body})
		if err != nil && !tgerr.Is(err, "MESSAGE_NOT_MODIFIED") {
			if refused(err) {
				o.unpend(ctx, key, 0)
			}
			return "", sendError(err)
		}
		o.addLogged(ctx, r, out.Body)
		o.unpend(ctx, key, 0)
		return out.Replaces, nil
	}
	if len(out.Media) > 0 {
		return a.sendMedia(ctx, to, chat, out)
	}
	req := &tg.MessagesSendMessageRequest{Peer: to, Message: out.Body, RandomID: randomID(out.ID)}
	if r, ok := a.refTo(chat, out.ReplyTo); ok {
		req.ReplyTo = &tg.InputReplyToMessage{ReplyToMsgID: r.id}
	}
	r, err := a.sendPending(ctx, out.To, chat, out.Body, req.RandomID, func() (tg.UpdatesClass, error) {
		return api.MessagesSendMessage(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return a.msgID(r), nil
}

// sendPending makes the request of a new message with text to chat (to)
// with randomID, between a pending marker and the record of its answer
// (own.go). The marker stays if the outcome is unknown: the follower
// then takes the message, once read, for the gateway's.
func (a *account) sendPending(ctx context.Context, to transports.Addr, chat peer, text string, randomID int64, request func() (tg.UpdatesClass, error)) (ref, error) {
	o := a.ours()
	key := sendKey(to, text)
	if err := o.pend(ctx, key, randomID); err != nil {
		return ref{}, &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram", Message: "recording the send failed: " + err.Error()}
	}
	res, err := request()
	if err != nil {
		if refused(err) {
			o.unpend(ctx, key, randomID)
		}
		return ref{}, sendError(err)
	}
	id, ok := sentID(res, randomID)
	if !ok {
		return ref{}, &transports.Error{Kind: transports.KindUnknown, Provider: "telegram", Message: "Telegram's answer has no message id"}
	}
	r := ref{channel: chat.channel, id: id}
	o.addLogged(ctx, r, text)
	o.unpend(ctx, key, randomID)
	return r, nil
}

var _ transports.IdempotentSender = (*Transport)(nil)

// IdempotentSends implements transports.IdempotentSender: a send repeated
// for the same job has the same random_id (randomID), which Telegram
// takes once.
func (t *Transport) IdempotentSends() {}

// randomID derives a send's random_id from the job's stable id.
func randomID(jobID string) int64 {
	h := sha256.Sum256([]byte("xmppgw telegram-user send\x00" + jobID))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// sentID finds the id of the message sent with randomID in the answer.
func sentID(res tg.UpdatesClass, randomID int64) (int, bool) {
	switch u := res.(type) {
	case *tg.UpdateShortSentMessage:
		return u.ID, true
	case *tg.Updates:
		return idIn(u.Updates, randomID)
	case *tg.UpdatesCombined:
		return idIn(u.Updates, randomID)
	}
	return 0, false
}

func idIn(us []tg.UpdateClass, randomID int64) (int, bool) {
	for _, u := range us {
		if m, ok := u.(*tg.UpdateMessageID); ok && m.RandomID == randomID {
			return m.ID, true
		}
	}
	for _, u := range us {
		switch m := u.(type) {
		case *tg.UpdateNewMessage:
			return m.Message.GetID(), true
		case *tg.UpdateNewChannelMessage:
			return m.Message.GetID(), true
		}
	}
	return 0, false
}

// Typing implements transports.Typer: messages.setTyping, best effort.
func (t *Transport) Typing(ctx context.Context, account, to transports.Addr) error {
	a := t.byID(account)
	if a == nil {
		return nil
	}
	peer, ok := a.peers.input(to)
	if !ok {
		return nil
	}
	_, err := a.api().MessagesSetTyping(ctx, &tg.MessagesSetTypingRequest{Peer: peer, Action: &tg.SendMessageTypingAction{}})
	return err
}

func rejected(msg string) error {
	return &transports.Error{Kind: transports.KindRejected, Provider: "telegram", Message: msg}
}

// asWait reports the wait a 420 error asks for: FLOOD_WAIT_X,
// SLOWMODE_WAIT_X (a supergroup's slow mode), FLOOD_PREMIUM_WAIT_X, ...
// Only a *_WAIT type with a positive X is a wait: another 420 (such as
// FROZEN_METHOD_INVALID, a frozen account's) names no time.
func asWait(err error) (time.Duration, bool) {
	rpc, ok := tgerr.As(err)
	if !ok || rpc.Code != 420 || !strings.HasSuffix(rpc.Type, "_WAIT") || rpc.Argument <= 0 {
		return 0, false
	}
	return time.Duration(rpc.Argument) * time.Second, true
}

// sendError classifies a Telegram error.
func sendError(err error) error {
	var te *transports.Error
	if errors.As(err, &te) {
		return te
	}
	if d, ok := asWait(err); ok {
		rpc, _ := tgerr.As(err)
		return &transports.Error{Kind: transports.KindRateLimited, Provider: "telegram", Code: rpc.Type, Message: err.Error(), RetryAfter: d}
	}
	if rpc, ok := tgerr.As(err); ok {
		kind := transports.KindRejected
		switch {
		case rpc.Code == 401:
			kind = transports.KindAuth
		case rpc.IsOneOf("PEER_ID_INVALID", "USER_ID_INVALID", "CHAT_ID_INVALID", "INPUT_USER_DEACTIVATED"):
			kind = transports.KindInvalidAddress
		case rpc.IsOneOf("USER_IS_BLOCKED", "YOU_BLOCKED_USER", "CHAT_WRITE_FORBIDDEN", "USER_BANNED_IN_CHANNEL", "PRIVACY_PREMIUM_REQUIRED"):
			kind = transports.KindUnreachable
		case rpc.Code >= 500 || rpc.Code < 0: // -503 Timeout, and Telegram's other internal errors
			kind = transports.KindUnavailable
		}
		return &transports.Error{Kind: kind, Provider: "telegram", Code: rpc.Type, Message: rpc.Message}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return &transports.Error{Kind: transports.KindUnavailable, Provider: "telegram", Message: err.Error()}
	}
	return &transports.Error{Kind: transports.KindUnknown, Provider: "telegram", Message: err.Error()}
}
