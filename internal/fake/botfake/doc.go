// Package botfake is an in-memory fake of the Telegram Bot API for one bot,
// served with net/http/httptest, for the gateway's tests and its demo
// (api.telegram.org cannot be reached from there).
//
// It speaks the real wire format, so the real client
// (github.com/go-telegram-bot-api/telegram-bot-api/v5) works against it
// unchanged:
//
//	f := botfake.New(token)
//	defer f.Close()
//	bot, err := tgbotapi.NewBotAPIWithClient(token, f.Start()+"/bot%s/%s", http.DefaultClient)
//
// Methods are called as POST (or GET) /bot<TOKEN>/<method>, matched
// case-insensitively, with parameters in the query string or a
// form-urlencoded, multipart or JSON body. Answers are
// {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":...}
// with HTTP status N and Telegram's own descriptions, plus
// parameters.retry_after for 429 and parameters.migrate_to_chat_id for
// upgraded groups. A wrong token answers 401 "Unauthorized", an unknown
// method 404 "Not Found". Files are downloaded from
// GET /file/bot<TOKEN>/<file_path>.
//
// Covered methods: getMe; getUpdates (offset confirms, negative offsets,
// limit, long polling with timeout up to 50 s, allowed_updates, 409 while
// a webhook is set or when a newer getUpdates call takes over);
// sendMessage (4096 UTF-16 code units, replies, parse_mode names);
// editMessageText (only the bot's messages, "message is not modified",
// "there is no text in the message to edit" for a file's message);
// editMessageCaption (the caption of a file the bot sent; "there is no
// caption in the message to edit" for a text); editMessageMedia (a photo
// or document, uploaded as "attach://<name>", by URL or by file_id, in
// place of a file the bot sent; "message media can't be edited" for a
// voice note);
// deleteMessage; sendChatAction; getFile; getChat; getChatMember (members
// are the users who wrote in the chat, "member" unless SetMemberStatus
// made them "administrator", "creator" or else); setWebhook,
// deleteWebhook and getWebhookInfo. With a webhook set, updates are POSTed
// to it one at a time in order, with X-Telegram-Bot-Api-Secret-Token, and
// retried after a non-2xx answer or a connection error.
//
// Tests play the users (UserSends, UserSendsPhoto, UserEdits, PushUpdate,
// ...), inspect what the bot did (Sent, Edits, Deleted, Actions, Calls,
// Offsets, WaitSent, WaitFor) and inject faults (Kick, Migrate, Fail,
// SetRateLimit). A chat is known once a user wrote in it or AddChat named
// it; other chats answer "Bad Request: chat not found".
//
// sendPhoto, sendDocument and sendVoice take an upload (multipart), an HTTP
// URL (recorded, not fetched; loopback and private hosts fail with "failed
// to get HTTP URL content" as Telegram cannot reach them) or a known file_id;
// Media and WaitMedia return what was sent.
//
// Not faked: other media methods (sendVideo, sendAudio, media groups...),
// inline mode, callback queries, keyboards
// (reply_markup is accepted and ignored), parse_mode markup (texts are
// stored and measured as sent, not parsed into entities), answering a
// webhook with a method call, and parallel webhook connections.
//
// The fake logs nothing and all its methods are safe for concurrent use.
package botfake
