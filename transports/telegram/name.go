package telegram

import (
	"context"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// ContactName implements transports.Namer with getChat: a group's title, or
// a person's name. The bot sees every chat the same way, whoever asks (the
// core checks that the chat is the user's).
func (t *Transport) ContactName(ctx context.Context, _ string, remote transports.Addr) (string, error) {
	var c tgbotapi.Chat
	if err := t.call(ctx, "getChat", tgbotapi.Params{"chat_id": strconv.FormatInt(chatID(remote), 10)}, &c); err != nil {
		return "", err
	}
	return chatName(&c), nil
}
