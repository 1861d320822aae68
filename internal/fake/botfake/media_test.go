package botfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestSendPhotoDocumentVoice(t *testing.T) {
	f, base := start(t)
	f.AddChat(dm)
	bot := client(t, base)

	photo := tgbotapi.NewPhoto(dm.ID, tgbotapi.FileBytes{Name: "cat.jpg", Bytes: []byte("JPEG")})
	photo.Caption = "a cat"
	m, err := bot.Send(photo)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != 1 || m.Caption != "a cat" || len(m.Photo) != 1 || m.Photo[0].FileSize != 4 || m.From == nil || !m.From.IsBot {
		t.Errorf("photo message %+v", m)
	}
	doc := tgbotapi.NewDocument(dm.ID, tgbotapi.FileURL("https://files.example.com/r/report.pdf"))
	m, err = bot.Send(doc)
	if err != nil {
		t.Fatal(err)
	}
	if m.Document == nil || m.Document.FileName != "report.pdf" || m.Document.MimeType != "application/pdf" {
		t.Errorf("document message %+v", m.Document)
	}
	voice := tgbotapi.NewVoice(dm.ID, tgbotapi.FileReader{Name: "v.oga", Reader: strings.NewReader("OGGS")})
	m, err = bot.Send(voice)
	if err != nil {
		t.Fatal(err)
	}
	if m.Voice == nil || m.Voice.MimeType != "audio/ogg" || m.Voice.FileSize != 4 {
		t.Errorf("voice message %+v", m.Voice)
	}
	got := f.Media()
	if len(got) != 3 {
		t.Fatalf("Media: %+v", got)
	}
	if g := got[0]; g.Method != "sendPhoto" || g.ChatID != dm.ID || g.MessageID != 1 || g.Caption != "a cat" ||
		g.FileName != "cat.jpg" || g.MimeType != "image/jpeg" || string(g.Data) != "JPEG" || g.URL != "" {
		t.Errorf("photo %+v", g)
	}
	if g := got[1]; g.Method != "sendDocument" || g.URL != "https://files.example.com/r/report.pdf" || g.Data != nil {
		t.Errorf("document %+v", g)
	}
	if g := got[2]; g.Method != "sendVoice" || string(g.Data) != "OGGS" || g.FileName != "v.oga" {
		t.Errorf("voice %+v", g)
	}
	// An uploaded file can be downloaded and sent again by file_id.
	fc, err := bot.GetFile(tgbotapi.FileConfig{FileID: got[0].FileID})
	if err != nil || fc.FileSize != 4 {
		t.Fatalf("getFile: %+v %v", fc, err)
	}
	if _, err := bot.Send(tgbotapi.NewPhoto(dm.ID, tgbotapi.FileID(got[0].FileID))); err != nil {
		t.Fatal(err)
	}
	if g := f.Media()[3]; g.FileID != got[0].FileID || g.Data != nil {
		t.Errorf("resent %+v", g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	if m, err := f.WaitMedia(ctx, 4); err != nil || len(m) != 4 {
		t.Errorf("WaitMedia: %d %v", len(m), err)
	}
}

func TestSendFileErrors(t *testing.T) {
	f, base := start(t)
	f.AddChat(dm)
	call := func(method string, form url.Values) (int, string) {
		resp, err := http.PostForm(base+"/bot"+testToken+"/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			OK          bool   `json:"ok"`
			ErrorCode   int    `json:"error_code"`
			Description string `json:"description"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		if resp.StatusCode != 200 && (r.OK || r.ErrorCode != resp.StatusCode) {
			t.Errorf("%s: envelope %+v for HTTP %d", method, r, resp.StatusCode)
		}
		return resp.StatusCode, r.Description
	}
	chat := "1001"
	for _, tc := range []struct {
		method string
		form   url.Values
		code   int
		desc   string
	}{
		{"sendPhoto", url.Values{"chat_id": {chat}}, 400, "Bad Request: there is no photo in the request"},
		{"sendDocument", url.Values{"chat_id": {chat}}, 400, "Bad Request: there is no document in the request"},
		{"sendVoice", url.Values{"chat_id": {chat}, "voice": {"nope"}}, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"sendPhoto", url.Values{"chat_id": {chat}, "photo": {"http://127.0.0.1:5280/u/a.jpg"}}, 400, "Bad Request: failed to get HTTP URL content"},
		{"sendPhoto", url.Values{"chat_id": {chat}, "photo": {"http://10.0.0.1/a.jpg"}}, 400, "Bad Request: failed to get HTTP URL content"},
		{"sendPhoto", url.Values{"chat_id": {"424242"}, "photo": {"https://x.example/a.jpg"}}, 400, "Bad Request: chat not found"},
		{"sendPhoto", url.Values{"chat_id": {chat}, "photo": {"https://x.example/a.jpg"}, "caption": {strings.Repeat("c", 1025)}},
			400, "Bad Request: message caption is too long"},
		{"sendPhoto", url.Values{"photo": {"https://x.example/a.jpg"}}, 400, "Bad Request: chat_id is empty"},
	} {
		if code, desc := call(tc.method, tc.form); code != tc.code || desc != tc.desc {
			t.Errorf("%s %v: %d %q, want %d %q", tc.method, tc.form, code, desc, tc.code, tc.desc)
		}
	}
	if n := len(f.Media()); n != 0 {
		t.Errorf("recorded %d failed sends", n)
	}
	if code, _ := call("sendPhoto", url.Values{"chat_id": {chat}, "photo": {"https://x.example/a.jpg"},
		"caption": {strings.Repeat("c", 1024)}}); code != 200 {
		t.Errorf("1024-char caption: %d", code)
	}
}
