package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// helpEvery is how often an unlinked chat is told how to link itself.
const helpEvery = time.Hour

// allowedUpdates are the update kinds the gateway asks for.
const allowedUpdates = `["message","edited_message","channel_post","edited_channel_post","message_reaction"]`

// handle passes one update to sink. A nil return means it is done with
// (stored, answered, or of no interest); any other error means it must be
// handled again later.
func (t *Transport) handle(ctx context.Context, sink transports.Sink, u update) error {
	msg, edited := u.Message, false
	switch {
	case u.MessageReaction != nil:
		return t.handleReaction(ctx, sink, u.UpdateID, u.MessageReaction)
	case msg != nil:
	case u.EditedMessage != nil:
		msg, edited = u.EditedMessage, true
	case u.ChannelPost != nil:
		msg = u.ChannelPost
	case u.EditedChannelPost != nil:
		msg, edited = u.EditedChannelPost, true
	default:
		t.log.Debug("update of no interest ignored", "update_id", u.UpdateID)
		return nil
	}
	if msg.Chat == nil {
		return nil
	}
	chat := transports.Addr(strconv.FormatInt(msg.Chat.ID, 10))
	text := msg.Text
	if text == "" {
		text = msg.Caption
	}
	if !edited {
		// A command is a text message (a caption is not), and exactly one:
		// "/help me with the deploy" is a message.
		if cmd, arg, ok := t.command(msg.Text); ok {
			return t.runCommand(ctx, sink, msg, chat, cmd, arg)
		}
	}
	in := transports.Inbound{
		From: chat,
		ID:   messageKey(msg.Chat.ID, msg.MessageID),
		Body: text,
		Time: msg.Time(),
		Name: chatName(msg.Chat),
	}
	if r := msg.ReplyToMessage; r != nil {
		// A reply to a part of a long message from XMPP refers to the whole.
		var err error
		if in.ReplyTo, err = t.wholeOf(ctx, messageKey(msg.Chat.ID, r.MessageID)); err != nil {
			return err
		}
		in.Quote = r.Text
		if in.Quote == "" {
			in.Quote = r.Caption
		}
	}
	// An edit carries the message's file too: the correction replaces the
	// whole message, which may have been the file alone (a caption added
	// to a photo sent without one).
	var note string
	in.Media, note = t.media(msg)
	in.Body = transports.WithNote(in.Body, note)
	if edited {
		// The event is the update: Telegram delivers one update again with
		// its id, and two edits in one second (the edit date's unit) have
		// ids of their own.
		in.Replaces = in.ID
		in.ID += ":e" + strconv.Itoa(u.UpdateID)
	} else if msg.MigrateToChatID != 0 {
		in.Body = t.upgraded(msg.MigrateToChatID)
	} else if in.Body == "" && len(in.Media) == 0 {
		in.Body = "[" + describeUnsupported(msg) + "]"
	}
	if !msg.Chat.IsPrivate() {
		in.Group, in.Sender, in.SenderID = true, senderName(msg), senderID(msg)
	}
	err := sink.Deliver(ctx, in)
	if errors.Is(err, transports.ErrNoRecipient) {
		if !msg.Chat.IsChannel() { // in a channel every subscriber would see it
			t.helpUnlinked(ctx, msg.Chat.ID)
		}
		return nil
	}
	return err
}

// command splits "/link@bot CODE" into ("link", "CODE"). Commands addressed
// to another bot are not ours.
func (t *Transport) command(text string) (cmd, arg string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(text[1:], " ")
	word, at, _ := strings.Cut(word, "@")
	t.mu.Lock()
	bot := t.botName
	t.mu.Unlock()
	if at != "" && !strings.EqualFold(at, bot) {
		return "", "", false
	}
	arg = strings.TrimSpace(rest)
	switch word = strings.ToLower(word); word {
	case "link":
		if !strings.ContainsAny(arg, " \t\n") { // none, or the code alone
			return word, arg, true
		}
	case "unlink", "start", "help":
		if arg == "" {
			return word, arg, true
		}
	}
	return "", "", false
}

// runCommand carries out a bot command and answers it in the chat. In a
// group, /link and /unlink go to the sink's GroupLinker with the member
// who asked, and the answer never names the XMPP user: every member sees it.
func (t *Transport) runCommand(ctx context.Context, sink transports.Sink, msg *tgbotapi.Message, chat transports.Addr, cmd, arg string) error {
	group := !msg.Chat.IsPrivate()
	var answer string
	switch {
	case cmd == "link" && arg == "":
		answer = "Send /link followed by the code the XMPP gateway gave you: send \"link\" to " + t.domain + " from your XMPP account to get one."
	case (cmd == "link" || cmd == "unlink") && group:
		gl, ok := sink.(transports.GroupLinker)
		if !ok {
			answer = "Groups cannot be linked through this gateway."
			break
		}
		by, err := t.asker(ctx, msg)
		if err != nil {
			return err
		}
		if cmd == "link" {
			err = gl.LinkGroup(ctx, chat, chatName(msg.Chat), arg, by)
		} else {
			err = gl.UnlinkGroup(ctx, chat, by)
		}
		var le *transports.LinkError
		switch {
		case errors.As(err, &le) && cmd == "link":
			answer = "Not linked: " + le.Msg
		case errors.As(err, &le):
			answer = "Not unlinked: " + le.Msg
		case err != nil:
			return err
		case cmd == "link":
			answer = "This chat is now linked to an XMPP user."
		default:
			answer = "This chat is no longer linked to an XMPP user."
		}
	case cmd == "link":
		user, err := sink.Redeem(ctx, chat, chatName(msg.Chat), arg)
		var le *transports.LinkError
		switch {
		case errors.As(err, &le):
			answer = "Not linked: " + le.Msg
		case err != nil:
			return err
		default:
			answer = fmt.Sprintf("Linked: messages in this chat now reach %s over XMPP, as %s@%s.", user, chat, t.domain)
		}
	case cmd == "unlink":
		user, err := sink.Unlink(ctx, chat)
		var le *transports.LinkError
		switch {
		case errors.As(err, &le):
			answer = "Not unlinked: " + le.Msg
		case err != nil:
			return err
		default:
			answer = "Unlinked: messages in this chat no longer reach " + user + "."
		}
	default: // start, help
		answer = t.linkInstructions()
	}
	t.reply(ctx, msg.Chat.ID, answer)
	return nil
}

// asker says who sent a command in a group: an anonymous administrator or
// a channel's own post (sent as the chat itself) administers it; a user is
// asked about with getChatMember; a message sent as another chat (a
// channel) is not an administrator. A temporary failure of getChatMember is
// returned, so the command is handled again later; a refusal (the user is
// not found in the chat) means not an administrator.
func (t *Transport) asker(ctx context.Context, msg *tgbotapi.Message) (transports.Asker, error) {
	by := transports.Asker{Member: senderID(msg)}
	switch {
	case msg.SenderChat != nil:
		by.Admin = msg.SenderChat.ID == msg.Chat.ID
	case msg.From != nil:
		admin, err := t.isAdmin(ctx, msg.Chat.ID, msg.From.ID)
		var pe *transports.Error
		switch {
		case err == nil:
			by.Admin = admin
		case errors.As(err, &pe) && (pe.Kind == transports.KindRejected || pe.Kind == transports.KindUnreachable):
			t.log.Info("getChatMember refused; the member is taken for no administrator",
				"chat", msg.Chat.ID, "member", msg.From.ID, "err", err)
		default:
			return by, err
		}
	}
	return by, nil
}

func (t *Transport) linkInstructions() string {
	return "This bot bridges Telegram chats to XMPP. To link this chat to your XMPP account, send \"link\" to " +
		t.domain + " from your XMPP client, then send /link CODE here with the code you get."
}

// helpUnlinked tells an unlinked chat how to link itself, at most once per
// helpEvery, so a busy group is not flooded.
func (t *Transport) helpUnlinked(ctx context.Context, chat int64) {
	t.mu.Lock()
	now := time.Now()
	due := t.helped.due(chat, now, helpEvery)
	t.mu.Unlock()
	if !due {
		return
	}
	t.log.Info("message from an unlinked chat; told it how to link", "chat", chat)
	t.reply(ctx, chat, "This chat is not linked to anyone on XMPP, so messages here reach nobody. "+t.linkInstructions())
}

// botReply is one of the bot's own answers in a chat.
type botReply struct {
	chat int64
	text string
}

// maxReplies bounds the answers waiting to be sent, and maxChatReplies
// those to one chat; past them an answer is dropped (a chat flooding the
// bot with commands), so that one chat does not crowd out the others'.
const (
	maxReplies     = 64
	maxChatReplies = 2
)

// reply sends the bot's own answer to a chat, best effort. While Run runs,
// its replier sends it, paced: a chat that floods the bot with commands
// must not hold up the updates of other chats while its answers wait for
// its rate limit.
func (t *Transport) reply(ctx context.Context, chat int64, text string) {
	if !t.replying.Load() {
		t.send1(ctx, botReply{chat, text})
		return
	}
	t.mu.Lock()
	queued := t.waiting[chat]
	if queued < maxChatReplies {
		t.waiting[chat] = queued + 1
	}
	t.mu.Unlock()
	if queued >= maxChatReplies {
		t.log.Info("an answer in a chat dropped: the chat has answers waiting", "chat", chat)
		return
	}
	select {
	case t.replies <- botReply{chat, text}:
	default:
		t.replied(chat)
		t.log.Warn("an answer in a chat dropped: too many wait to be sent", "chat", chat)
	}
}

// replied counts an answer to chat as no longer waiting.
func (t *Transport) replied(chat int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting[chat]--; t.waiting[chat] <= 0 {
		delete(t.waiting, chat)
	}
}

// send1 sends r now, paced.
func (t *Transport) send1(ctx context.Context, r botReply) {
	if _, err := t.sendText(ctx, r.chat, r.text, true, 0); err != nil {
		t.log.Warn("answering in the chat failed", "chat", r.chat, "err", err)
	}
}

// replier sends the answers reply queued, in order, until ctx ends.
func (t *Transport) replier(ctx context.Context) {
	for {
		select {
		case r := <-t.replies:
			t.send1(ctx, r)
			t.replied(r.chat)
		case <-ctx.Done():
			return
		}
	}
}

// messageKey identifies a Telegram message: ids are per chat.
func messageKey(chat int64, id int) string { return fmt.Sprintf("%d:%d", chat, id) }

// chatName is a chat's title, or the person's name.
func chatName(c *tgbotapi.Chat) string {
	if c.Title != "" {
		return c.Title
	}
	if name := strings.TrimSpace(c.FirstName + " " + c.LastName); name != "" {
		return name
	}
	return c.UserName
}

// senderName names who wrote msg in a group.
func senderName(msg *tgbotapi.Message) string {
	switch {
	case msg.From != nil:
		if name := strings.TrimSpace(msg.From.FirstName + " " + msg.From.LastName); name != "" {
			return name
		}
		return msg.From.UserName
	case msg.SenderChat != nil:
		return chatName(msg.SenderChat)
	case msg.AuthorSignature != "":
		return msg.AuthorSignature
	}
	return ""
}

// senderID is the stable id of who wrote msg in a group: the user's id,
// or the id of the chat it was sent as ("" if neither is known). User ids
// are positive and chat ids of groups and channels negative, so the two
// never meet.
func senderID(msg *tgbotapi.Message) string {
	switch {
	case msg.SenderChat != nil:
		return strconv.FormatInt(msg.SenderChat.ID, 10)
	case msg.From != nil:
		return strconv.FormatInt(msg.From.ID, 10)
	}
	return ""
}

// upgraded tells the user a group is linked to that Telegram upgraded it
// to supergroup to (the service message in the old group): the link does
// not follow the new id, so the user learns how to link it again.
func (t *Transport) upgraded(to int64) string {
	return fmt.Sprintf("[Telegram upgraded this group to a supergroup, with a new id: %d. The link does not follow it: "+
		"messages to this address fail from now on, and the supergroup's reach no one until you link it: "+
		"send \"link\" to %s, then /link CODE in the supergroup with the code you get. "+
		"Its address will be %d@%s.]", to, t.domain, to, t.domain)
}

// describeUnsupported names a message that has neither text nor a file.
func describeUnsupported(msg *tgbotapi.Message) string {
	switch {
	case msg.Location != nil:
		return fmt.Sprintf("location: geo:%g,%g", msg.Location.Latitude, msg.Location.Longitude)
	case msg.Contact != nil:
		return "contact: " + strings.TrimSpace(msg.Contact.FirstName+" "+msg.Contact.LastName) + " " + msg.Contact.PhoneNumber
	case msg.Poll != nil:
		return "poll: " + msg.Poll.Question
	case msg.Dice != nil:
		return fmt.Sprintf("dice %s: %d", msg.Dice.Emoji, msg.Dice.Value)
	case len(msg.NewChatMembers) > 0:
		return "new members joined"
	case msg.LeftChatMember != nil:
		return msg.LeftChatMember.FirstName + " left"
	case msg.NewChatTitle != "":
		return "new chat title: " + msg.NewChatTitle
	case msg.MigrateFromChatID != 0:
		return fmt.Sprintf("upgraded to a supergroup from the group %d", msg.MigrateFromChatID)
	}
	return "a kind of Telegram message the gateway cannot show"
}
