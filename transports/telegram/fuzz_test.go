package telegram

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzWebhookUpdate feeds arbitrary bodies to the update webhook: it must
// answer 200, 400 or 413, never crash, and deliver only what parsed.
func FuzzWebhookUpdate(f *testing.F) {
	f.Add(`{"update_id":5,"message":{"message_id":9,"date":1,"chat":{"id":111,"type":"private","first_name":"A"},"text":"hi"}}`)
	f.Add(`{"update_id":6,"edited_message":{"message_id":9,"date":1,"edit_date":2,"chat":{"id":-100,"type":"group","title":"T"},"from":{"id":1,"first_name":"B"},"text":"a\nb"}}`)
	f.Add(`{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":111,"type":"private"},"photo":[{"file_id":"x","width":1,"height":1}]}}`)
	f.Add(`{"update_id":8,"message":{"message_id":1,"date":1,"chat":{"id":111,"type":"private"},"text":"/link@xmppgw_test_bot ABC"}}`)
	f.Add(`{"update_id":9,"message":{"message_id":1,"date":1}}`)
	f.Add(`[]`)
	tr, _ := newTest(f, ModeWebhook, nil)
	tr.endpoint = "http://127.0.0.1:1/bot%s/%s" // replies fail fast
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	sink.linked["-100"] = "alice@example.test"
	h := tr.Webhooks(sink)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/update", strings.NewReader(body))
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hook-secret-0123456789")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		for _, in := range sink.got() {
			if in.From == "" || in.ID == "" || !utf8.ValidString(in.Body) && utf8.ValidString(body) {
				t.Fatalf("bad inbound %+v", in)
			}
		}
	})
}

// FuzzParseChatID: accepted ids are canonical and stable.
func FuzzParseChatID(f *testing.F) {
	for _, s := range []string{"123", "-1001234567890", "0", "+5", " 7 ", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseChatID(s)
		if err != nil {
			return
		}
		again, err := ParseChatID(id)
		if err != nil || again != id || id == "0" {
			t.Fatalf("%q -> %q -> %q, %v", s, id, again, err)
		}
	})
}
