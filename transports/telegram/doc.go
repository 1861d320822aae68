// Package telegram is the "telegram" transport: Telegram chats with one bot,
// through the Bot API (github.com/go-telegram-bot-api/telegram-bot-api/v5)
// at a configurable endpoint.
//
// Each chat is a contact whose address is the chat id ("123456789", or
// "-1001234567890" for a group). Chats are linked to XMPP users (see
// transports.Linker): from the config, or by sending "/link CODE" to the bot
// in the chat. Updates arrive by long polling getUpdates (the offset is kept
// in the store) or by webhook (POST /hooks/<name>/update, checked against
// X-Telegram-Bot-Api-Secret-Token). Attachments are served to XMPP users
// under /media/<name>/<sig>/<expiry>/<file id>/<name>, signed over the whole
// path, so that the bot token never appears in a URL (see
// transports.ServeMedia for how they are labelled); one larger than the
// Bot API lets bots download (20 MB, or 50 MB with local_mode) is a note
// in the body instead. A user's attachment that
// Telegram cannot fetch itself, or does not take by URL, is uploaded by the
// gateway, only from an address transports.Params.Fetch allows.
// Sends are paced to Telegram's published limits.
package telegram
