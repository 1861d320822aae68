package botfake

import (
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// editMessageMedia replaces the file of a message the bot sent, with the
// real client: uploaded (attach://), by URL or by file_id, with a new
// caption or none; Media then shows the new file. A voice note, someone
// else's message, a missing attachment or bad JSON are refused as
// Telegram does.
func TestEditMessageMedia(t *testing.T) {
	f, base := start(t)
	f.UserSends(dm, alice, "hi") // message 1
	bot := client(t, base)
	p := tgbotapi.NewPhoto(dm.ID, tgbotapi.FileBytes{Name: "cat.jpg", Bytes: []byte("CAT")})
	p.Caption = "a cat"
	if m, err := bot.Send(p); err != nil || m.MessageID != 2 {
		t.Fatalf("sendPhoto: %+v, %v", m, err)
	}
	if m, err := bot.Send(tgbotapi.NewVoice(dm.ID, tgbotapi.FileBytes{Name: "v.oga", Bytes: []byte("OGGS")})); err != nil || m.MessageID != 3 {
		t.Fatalf("sendVoice: %+v, %v", m, err)
	}
	edit := func(id int, media any) (tgbotapi.Message, error) {
		return bot.Send(tgbotapi.EditMessageMediaConfig{BaseEdit: tgbotapi.BaseEdit{ChatID: dm.ID, MessageID: id}, Media: media})
	}

	// Uploaded, with a new caption.
	dog := tgbotapi.NewInputMediaPhoto(tgbotapi.FileBytes{Name: "dog.jpg", Bytes: []byte("DOG")})
	dog.Caption = "a dog"
	m, err := edit(2, dog)
	if err != nil || m.MessageID != 2 || len(m.Photo) != 1 || m.Caption != "a dog" || m.EditDate == 0 {
		t.Fatalf("editMessageMedia (upload): %+v, %v", m, err)
	}
	got := f.Media()
	if g := got[0]; g.MessageID != 2 || g.Method != "editMessageMedia" || string(g.Data) != "DOG" || g.FileName != "dog.jpg" || g.Caption != "a dog" {
		t.Errorf("Media()[0] after the upload = %+v", g)
	}
	// By file_id: the same file and caption again is not modified.
	same := tgbotapi.NewInputMediaPhoto(tgbotapi.FileID(got[0].FileID))
	same.Caption = "a dog"
	if _, err := edit(2, same); err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("the same file again: %v, want not modified", err)
	}
	// By URL, as a document, without a caption (removed).
	m, err = edit(2, tgbotapi.NewInputMediaDocument(tgbotapi.FileURL("https://files.example.com/r/report.pdf")))
	if err != nil || m.Document == nil || m.Document.FileName != "report.pdf" || len(m.Photo) != 0 || m.Caption != "" {
		t.Fatalf("editMessageMedia (URL): %+v, %v", m, err)
	}
	if g := f.Media()[0]; g.URL != "https://files.example.com/r/report.pdf" || g.Data != nil {
		t.Errorf("Media()[0] after the URL = %+v", g)
	}
	if e := f.MediaEdits(); len(e) != 2 || e[0] != (Edit{dm.ID, 2, "a dog"}) || e[1] != (Edit{dm.ID, 2, ""}) {
		t.Errorf("MediaEdits = %+v", e)
	}

	refused := []struct {
		name, body, want string
	}{
		{"a voice note", `chat_id=1001&message_id=3&media={"type":"photo","media":"https://files.example.com/x.jpg"}`,
			"Bad Request: message media can't be edited"},
		{"someone else's message", `chat_id=1001&message_id=1&media={"type":"photo","media":"https://files.example.com/x.jpg"}`,
			"Bad Request: message can't be edited"},
		{"an unknown message", `chat_id=1001&message_id=77&media={"type":"photo","media":"https://files.example.com/x.jpg"}`,
			"Bad Request: message to edit not found"},
		{"an attachment not uploaded", `chat_id=1001&message_id=2&media={"type":"photo","media":"attach://file-0"}`,
			"Bad Request: can't parse InputMedia: media not found"},
		{"a private URL", `chat_id=1001&message_id=2&media={"type":"photo","media":"http://127.0.0.1/x.jpg"}`,
			"Bad Request: failed to get HTTP URL content"},
		{"not JSON", `chat_id=1001&message_id=2&media=photo`, "Bad Request: can't parse input media JSON object"},
		{"a type not faked", `chat_id=1001&message_id=2&media={"type":"sticker","media":"x"}`,
			`Bad Request: can't parse InputMedia: type "sticker" is unsupported`},
	}
	for _, tt := range refused {
		status, body := form(t, base, "editMessageMedia", tt.body)
		if want := `{"ok":false,"error_code":400,"description":"` + strings.ReplaceAll(tt.want, `"`, `\"`) + `"}`; status != 400 || body != want {
			t.Errorf("%s: got %d %s\nwant 400 %s", tt.name, status, body, want)
		}
	}
}
