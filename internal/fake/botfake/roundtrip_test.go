package botfake

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// TestRoundTripWithTgbotapi drives the fake with the real client library.
func TestRoundTripWithTgbotapi(t *testing.T) {
	f, base := start(t)
	bot := client(t, base)
	if bot.Self.ID != DefaultBotID || !bot.Self.IsBot || bot.Self.UserName != "xmppgw_test_bot" ||
		bot.Self.FirstName != "xmppgw test bot" {
		t.Fatalf("getMe: got %+v", bot.Self)
	}

	// A user writes; the bot long-polls and sees it.
	in := f.UserSends(dm, alice, "hello bot")
	cfg := tgbotapi.NewUpdate(0)
	cfg.Timeout = 2
	updates, err := bot.GetUpdates(cfg)
	if err != nil {
		t.Fatalf("GetUpdates: %v", err)
	}
	if len(updates) != 1 || updates[0].Message == nil {
		t.Fatalf("GetUpdates: got %+v, want one message", updates)
	}
	got := updates[0].Message
	if got.Text != "hello bot" || got.MessageID != in.MessageID || got.Chat.ID != dm.ID ||
		got.Chat.Type != "private" || got.From.ID != alice.ID || got.From.UserName != "alice" || got.Date == 0 {
		t.Errorf("update message: got %+v (chat %+v, from %+v)", got, got.Chat, got.From)
	}

	// Confirming by offset forgets the update.
	cfg = tgbotapi.NewUpdate(updates[0].UpdateID + 1)
	if again, err := bot.GetUpdates(cfg); err != nil || len(again) != 0 {
		t.Fatalf("GetUpdates after confirming: %v, %+v", err, again)
	}
	if f.Pending() != 0 {
		t.Errorf("Pending after confirming: %d", f.Pending())
	}
	if offs := f.Offsets(); len(offs) != 2 || offs[0] != 0 || offs[1] != updates[0].UpdateID+1 {
		t.Errorf("Offsets: got %v", offs)
	}

	// The bot answers, replying, and edits its answer.
	msg := tgbotapi.NewMessage(dm.ID, "hello <b>Alice</b>")
	msg.ReplyToMessageID = in.MessageID
	msg.ParseMode = tgbotapi.ModeHTML
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sent.Text != "hello <b>Alice</b>" || sent.From.ID != DefaultBotID || sent.Chat.ID != dm.ID ||
		sent.MessageID <= in.MessageID || sent.ReplyToMessage == nil || sent.ReplyToMessage.MessageID != in.MessageID {
		t.Errorf("Send: got %+v", sent)
	}
	edited, err := bot.Send(tgbotapi.NewEditMessageText(dm.ID, sent.MessageID, "hello again"))
	if err != nil {
		t.Fatalf("edit: %v", err)
	}
	if edited.Text != "hello again" || edited.EditDate == 0 || edited.MessageID != sent.MessageID {
		t.Errorf("edit: got %+v", edited)
	}
	if s := f.SentTo(dm.ID); len(s) != 1 || s[0].Text != "hello again" || s[0].ParseMode != "" {
		t.Errorf("SentTo: got %+v", s)
	}
	if e := f.Edits(); len(e) != 1 || e[0] != (Edit{ChatID: dm.ID, MessageID: sent.MessageID, Text: "hello again"}) {
		t.Errorf("Edits: got %+v", e)
	}
	if _, err := bot.Request(tgbotapi.NewChatAction(dm.ID, tgbotapi.ChatTyping)); err != nil {
		t.Fatalf("sendChatAction: %v", err)
	}
	if a := f.Actions(); len(a) != 1 || a[0] != (Action{ChatID: dm.ID, Action: "typing"}) {
		t.Errorf("Actions: got %+v", a)
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMessage(dm.ID, sent.MessageID)); err != nil {
		t.Fatalf("deleteMessage: %v", err)
	}
	if d := f.Deleted(); len(d) != 1 || d[0] != (Deleted{ChatID: dm.ID, MessageID: sent.MessageID}) {
		t.Errorf("Deleted: got %+v", d)
	}
	chat, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: group.ID}})
	if err == nil {
		t.Errorf("GetChat of an unknown chat: got %+v, want an error", chat)
	}

	// A document arrives; the bot fetches it.
	data := []byte("%PDF-1.4 fake")
	doc := f.UserSendsDocument(dm, alice, "the report", "report.pdf", "", data)
	updates, err = bot.GetUpdates(tgbotapi.NewUpdate(0))
	if err != nil || len(updates) != 1 || updates[0].Message.Document == nil {
		t.Fatalf("GetUpdates for the document: %v, %+v", err, updates)
	}
	d := updates[0].Message.Document
	if d.FileID != doc.Document.FileID || d.FileName != "report.pdf" || d.MimeType != "application/pdf" ||
		d.FileSize != len(data) || updates[0].Message.Caption != "the report" {
		t.Errorf("document: got %+v", d)
	}
	file, err := bot.GetFile(tgbotapi.FileConfig{FileID: d.FileID})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	if file.FilePath == "" || file.FileSize != len(data) || file.FileUniqueID != d.FileUniqueID {
		t.Errorf("GetFile: got %+v", file)
	}
	resp, err := http.Get(base + "/file/bot" + testToken + "/" + file.FilePath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: status %d, type %q, body %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	if n := f.Calls("GETUPDATES"); n != 3 {
		t.Errorf("Calls(getUpdates): got %d, want 3", n)
	}
}
