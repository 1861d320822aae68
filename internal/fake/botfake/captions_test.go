package botfake

import (
	"encoding/json"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A photo's caption is changed with editMessageCaption; editMessageText
// refuses a message that carries a file, as Telegram does, and
// editMessageCaption refuses a text.
func TestEditTextAndCaptionOfFileMessages(t *testing.T) {
	const notModified = `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: ` +
		`specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}`
	f, base := start(t)
	f.UserSends(dm, alice, "hi") // message 1
	bot := client(t, base)
	p := tgbotapi.NewPhoto(dm.ID, tgbotapi.FileBytes{Name: "cat.jpg", Bytes: []byte("JPEG")})
	p.Caption = "a cat"
	if m, err := bot.Send(p); err != nil || m.MessageID != 2 {
		t.Fatalf("sendPhoto: %+v, %v", m, err)
	}
	doc := tgbotapi.NewDocument(dm.ID, tgbotapi.FileBytes{Name: "r.pdf", Bytes: []byte("PDF")})
	if m, err := bot.Send(doc); err != nil || m.MessageID != 3 { // no caption
		t.Fatalf("sendDocument: %+v, %v", m, err)
	}
	if m, err := bot.Send(tgbotapi.NewMessage(dm.ID, "a text")); err != nil || m.MessageID != 4 {
		t.Fatalf("sendMessage: %+v, %v", m, err)
	}
	tests := []struct {
		name, method, body string
		status             int
		want               string // the whole answer, for errors
		caption            string // the message's caption after a success
	}{
		{name: "text of a captioned photo", method: "editMessageText", body: "chat_id=1001&message_id=2&text=a+dog",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: there is no text in the message to edit"}`},
		{name: "text of a document without caption", method: "editMessageText", body: "chat_id=1001&message_id=3&text=x",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: there is no text in the message to edit"}`},
		{name: "caption of a text", method: "editMessageCaption", body: "chat_id=1001&message_id=4&caption=x",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: there is no caption in the message to edit"}`},
		{name: "caption of someone else's message", method: "editMessageCaption", body: "chat_id=1001&message_id=1&caption=x",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message can't be edited"}`},
		{name: "caption of an unknown message", method: "editMessageCaption", body: "chat_id=1001&message_id=77&caption=x",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message to edit not found"}`},
		{name: "caption too long", method: "editMessageCaption", body: "chat_id=1001&message_id=2&caption=" + strings.Repeat("x", 1025),
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message caption is too long"}`},
		{name: "same caption", method: "editMessageCaption", body: "chat_id=1001&message_id=2&caption=a+cat",
			status: 400, want: notModified},
		{name: "caption changed", method: "editMessageCaption", body: "chat_id=1001&message_id=2&caption=a+dog",
			status: 200, caption: "a dog"},
		{name: "caption removed", method: "editMessageCaption", body: "chat_id=1001&message_id=2",
			status: 200, caption: ""},
		{name: "caption added", method: "editMessageCaption", body: "chat_id=1001&message_id=3&caption=the+report&show_caption_above_media=true",
			status: 200, caption: "the report"},
	}
	for _, tt := range tests {
		status, body := form(t, base, tt.method, tt.body)
		if tt.want != "" {
			if status != tt.status || body != tt.want {
				t.Errorf("%s: got %d %s\nwant %d %s", tt.name, status, body, tt.status, tt.want)
			}
			continue
		}
		var resp struct {
			OK     bool            `json:"ok"`
			Result json.RawMessage `json:"result"`
		}
		var m map[string]json.RawMessage
		if status != tt.status || json.Unmarshal([]byte(body), &resp) != nil || !resp.OK || json.Unmarshal(resp.Result, &m) != nil {
			t.Errorf("%s: got %d %s", tt.name, status, body)
			continue
		}
		// The edited Message: its file, the new caption (absent if
		// removed), no text, an edit_date.
		var caption string
		json.Unmarshal(m["caption"], &caption)
		_, hasText := m["text"]
		_, edited := m["edit_date"]
		if caption != tt.caption || hasText || !edited || (m["photo"] == nil && m["document"] == nil) {
			t.Errorf("%s: the edited message is %s", tt.name, resp.Result)
		}
	}
	if e := f.Edits(); len(e) != 0 {
		t.Errorf("Edits (editMessageText) = %+v, want none", e)
	}
	want := []Edit{{dm.ID, 2, "a dog"}, {dm.ID, 2, ""}, {dm.ID, 3, "the report"}}
	if got := f.CaptionEdits(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("CaptionEdits = %+v, want %+v", got, want)
	}
	// The real client's editMessageCaption works against the fake.
	m, err := bot.Send(tgbotapi.NewEditMessageCaption(dm.ID, 2, "a cat again"))
	if err != nil || m.Caption != "a cat again" || len(m.Photo) != 1 || m.Text != "" {
		t.Errorf("tgbotapi editMessageCaption: %+v, %v", m, err)
	}
	if media := f.Media(); media[0].Caption != "a cat again" {
		t.Errorf("Media()[0].Caption = %q", media[0].Caption)
	}
}
