package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// update is a Bot API update: what the library knows, and the
// message_reaction updates it predates.
type update struct {
	tgbotapi.Update
	MessageReaction *messageReaction `json:"message_reaction,omitempty"`
}

// messageReaction is a user's change of reactions to a message. The bot
// gets it where it may see reactions (private chats; groups where it is an
// administrator).
type messageReaction struct {
	Chat        tgbotapi.Chat  `json:"chat"`
	MessageID   int            `json:"message_id"`
	User        *tgbotapi.User `json:"user,omitempty"`
	Date        int            `json:"date"`
	NewReaction []reactionType `json:"new_reaction"`
	OldReaction []reactionType `json:"old_reaction"`
}

// reactionType is a Bot API ReactionType; only emoji map to XEP-0444.
type reactionType struct {
	Type  string `json:"type"`
	Emoji string `json:"emoji,omitempty"`
}

// handleReaction passes a reaction change, update updateID, on as an
// Inbound carrying the reactor's whole new set (XEP-0444 semantics). The
// event is the update: one delivered again has its id, and two changes in
// one second (the date's unit), or anonymous reactors', have their own.
func (t *Transport) handleReaction(ctx context.Context, sink transports.Sink, updateID int, r *messageReaction) error {
	// A reaction to a part of a long message from XMPP is to the whole.
	to, err := t.wholeOf(ctx, messageKey(r.Chat.ID, r.MessageID))
	if err != nil {
		return err
	}
	in := transports.Inbound{
		From:    transports.Addr(strconv.FormatInt(r.Chat.ID, 10)),
		ID:      fmt.Sprintf("%s:r%d", messageKey(r.Chat.ID, r.MessageID), updateID),
		ReactTo: to,
		Name:    chatName(&r.Chat),
	}
	if !r.Chat.IsPrivate() {
		in.Group = true
		if r.User != nil {
			in.Sender = senderName(&tgbotapi.Message{From: r.User})
			in.SenderID = strconv.FormatInt(r.User.ID, 10)
		}
	}
	for _, rt := range r.NewReaction {
		if rt.Type == "emoji" && rt.Emoji != "" {
			in.Reactions = append(in.Reactions, rt.Emoji)
		}
	}
	err = sink.Deliver(ctx, in)
	if errors.Is(err, transports.ErrNoRecipient) {
		return nil // an unlinked chat: nothing to tell
	}
	return err
}

// react sets the bot's reactions to the first message of remote (an
// XEP-0444 reaction from XMPP). Telegram lets a bot set one reaction per
// message: the last of the set is kept; none removes it.
func (t *Transport) react(ctx context.Context, chat int64, remote string, emoji []string) error {
	c, ids, ok := parseRemoteID(remote)
	if !ok || c != chat || len(ids) == 0 {
		return &transports.Error{Kind: transports.KindRejected, Provider: "Telegram", Message: "unknown message to react to"}
	}
	set := []reactionType{}
	if len(emoji) > 0 {
		set = append(set, reactionType{Type: "emoji", Emoji: emoji[len(emoji)-1]})
	}
	b, _ := json.Marshal(set)
	return t.call(ctx, "setMessageReaction", tgbotapi.Params{
		"chat_id": strconv.FormatInt(chat, 10), "message_id": strconv.Itoa(ids[0]), "reaction": string(b)}, nil)
}
