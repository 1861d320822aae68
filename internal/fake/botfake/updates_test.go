package botfake

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// getUpdatesResult is the envelope of a getUpdates answer.
type getUpdatesResult struct {
	OK          bool     `json:"ok"`
	Result      []Update `json:"result"`
	ErrorCode   int      `json:"error_code"`
	Description string   `json:"description"`
}

func poll(t *testing.T, base, body string) (int, getUpdatesResult, string) {
	t.Helper()
	status, raw := form(t, base, "getUpdates", body)
	var r getUpdatesResult
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("getUpdates answer %q: %v", raw, err)
	}
	return status, r, raw
}

func TestLongPoll(t *testing.T) {
	tests := []struct {
		name     string
		timeout  string
		push     bool
		wantText []string
	}{
		{name: "returns when an update arrives", timeout: "2", push: true, wantText: []string{"late"}},
		{name: "returns nothing after the timeout", timeout: "1", push: false, wantText: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, base := start(t)
			done := pollAsync(base, "timeout="+tt.timeout)
			if tt.push {
				// Push only once the poll is waiting.
				if err := f.WaitFor(testContext(t), func() bool { return len(f.Offsets()) == 1 }); err != nil {
					t.Fatal(err)
				}
				f.UserSends(dm, alice, "late")
			}
			a := struct {
				r   getUpdatesResult
				raw string
			}{raw: <-done}
			if err := json.Unmarshal([]byte(a.raw), &a.r); err != nil {
				t.Fatalf("answer %s: %v", a.raw, err)
			}
			var texts []string
			for _, u := range a.r.Result {
				texts = append(texts, u.Message.Text)
			}
			if !a.r.OK || strings.Join(texts, "|") != strings.Join(tt.wantText, "|") {
				t.Errorf("got %s, want texts %q", a.raw, tt.wantText)
			}
			if !tt.push && a.raw != `{"ok":true,"result":[]}` {
				t.Errorf("empty answer: got %s", a.raw)
			}
		})
	}
}

func TestOffsetsConfirmAndLimit(t *testing.T) {
	f, base := start(t)
	for _, text := range []string{"a", "b", "c", "d"} {
		f.UserSends(dm, alice, text)
	}
	steps := []struct {
		body    string
		wantIDs []int
		pending int
	}{
		{body: "limit=2", wantIDs: []int{1, 2}, pending: 4},
		{body: "offset=2&limit=2", wantIDs: []int{2, 3}, pending: 3},
		{body: "offset=-1", wantIDs: []int{4}, pending: 1},
		{body: "", wantIDs: []int{4}, pending: 1},
		{body: "offset=5", wantIDs: nil, pending: 0},
	}
	for _, s := range steps {
		_, r, raw := poll(t, base, s.body)
		var ids []int
		for _, u := range r.Result {
			ids = append(ids, u.UpdateID)
		}
		if !slices.Equal(ids, s.wantIDs) {
			t.Errorf("%q: got %s, want update_ids %v", s.body, raw, s.wantIDs)
		}
		if got := f.Pending(); got != s.pending {
			t.Errorf("%q: Pending %d, want %d", s.body, got, s.pending)
		}
	}
	if got, want := f.Offsets(), []int{0, 2, -1, 0, 5}; !slices.Equal(got, want) {
		t.Errorf("Offsets: got %v, want %v", got, want)
	}
}

// TestParameterEncodings sends the same call in each encoding Telegram
// accepts, with the method name in odd case.
func TestParameterEncodings(t *testing.T) {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("chat_id", "1001")
	_ = w.WriteField("text", "multipart")
	_ = w.Close()
	tests := []struct {
		name, httpMethod, query, contentType, body, want string
	}{
		{"form", http.MethodPost, "", "application/x-www-form-urlencoded", "chat_id=1001&text=form", "form"},
		{"json", http.MethodPost, "", "application/json; charset=utf-8", `{"chat_id":1001,"text":"json <&>","disable_notification":true}`, "json <&>"},
		{"multipart", http.MethodPost, "", w.FormDataContentType(), mp.String(), "multipart"},
		{"query", http.MethodGet, "?chat_id=1001&text=" + url.QueryEscape("get query"), "", "", "get query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, base := start(t)
			f.UserSends(dm, alice, "hi")
			status, _, raw := call(t, tt.httpMethod, base+"/bot"+testToken+"/SENDmessage"+tt.query, tt.contentType, tt.body)
			var r struct {
				OK     bool    `json:"ok"`
				Result Message `json:"result"`
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil || status != 200 || !r.OK {
				t.Fatalf("got %d %s (%v)", status, raw, err)
			}
			if r.Result.Text != tt.want || r.Result.Chat.ID != dm.ID || r.Result.From == nil || r.Result.From.ID != DefaultBotID {
				t.Errorf("got %s", raw)
			}
			if tt.name == "json" && (!strings.Contains(raw, `"text":"json <&>"`) || !f.Sent()[0].DisableNotification) {
				t.Errorf("json: got %s, sent %+v", raw, f.Sent())
			}
		})
	}
}

func TestNewerPollTerminatesOlder(t *testing.T) {
	f, base := start(t)
	done := pollAsync(base, "timeout=5")
	if err := f.WaitFor(testContext(t), func() bool { return len(f.Offsets()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if _, _, raw := poll(t, base, "timeout=0"); raw != `{"ok":true,"result":[]}` {
		t.Errorf("newer poll: got %s", raw)
	}
	want := `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`
	if got := <-done; got != want {
		t.Errorf("older poll: got %s", got)
	}
}

func TestAllowedUpdatesAndPushUpdate(t *testing.T) {
	f, base := start(t)
	poll(t, base, `allowed_updates=["edited_message","callback_query"]`)
	f.UserSends(dm, alice, "filtered out")
	f.UserEdits(dm, alice, 1, "edited")
	f.PushUpdate(json.RawMessage(`{"update_id":999,"callback_query":{"id":"42","data":"yes"}}`))
	_, r, raw := poll(t, base, "")
	if len(r.Result) != 2 || r.Result[0].EditedMessage == nil || r.Result[0].EditedMessage.Text != "edited" ||
		r.Result[0].EditedMessage.EditDate == 0 || r.Result[1].UpdateID != r.Result[0].UpdateID+1 ||
		!strings.Contains(raw, `"callback_query":{"id":"42","data":"yes"}`) {
		t.Errorf("got %s", raw)
	}

	// Back to the default: a pushed message makes its chat known.
	poll(t, base, `offset=100&allowed_updates=[]`)
	f.PushUpdate(json.RawMessage(`{"message":{"message_id":5,"date":1,"chat":{"id":-100777,"type":"supergroup","title":"T"},"text":"x"}}`))
	if f.Pending() != 1 {
		t.Errorf("Pending: got %d, want 1", f.Pending())
	}
	if status, body := form(t, base, "sendMessage", "chat_id=-100777&text=ok&reply_to_message_id=5"); status != 200 ||
		!strings.Contains(body, `"message_id":6`) || !strings.Contains(body, `"reply_to_message":{"message_id":5`) {
		t.Errorf("reply in pushed chat: %d %s", status, body)
	}
}

func TestChannelPost(t *testing.T) {
	f, base := start(t)
	channel := Chat{ID: -1005555, Type: "channel", Title: "News", Username: "news"}
	f.UserSends(channel, alice, "post")
	_, r, raw := poll(t, base, "")
	if len(r.Result) != 1 || r.Result[0].ChannelPost == nil || r.Result[0].ChannelPost.From != nil ||
		r.Result[0].ChannelPost.SenderChat == nil || r.Result[0].ChannelPost.SenderChat.ID != channel.ID {
		t.Errorf("got %s", raw)
	}
	if status, body := form(t, base, "sendMessage", "chat_id=%40news&text=hi"); status != 200 || !strings.Contains(body, `"id":-1005555`) {
		t.Errorf("send by @username: %d %s", status, body)
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	f := New(testToken)
	base := f.Start()
	done := pollAsync(base, "timeout=50")
	if err := f.WaitFor(testContext(t), func() bool { return len(f.Offsets()) == 1 }); err != nil {
		t.Fatal(err)
	}
	f.Close()
	select {
	case raw := <-done:
		if raw != `{"ok":true,"result":[]}` {
			t.Errorf("got %s", raw)
		}
	case <-testContext(t).Done():
		t.Fatal("long poll still running after Close")
	}
	f.Close() // twice is fine
}
