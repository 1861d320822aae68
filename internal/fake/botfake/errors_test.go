package botfake

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// TestErrorResponses checks the exact status and JSON of error answers.
func TestErrorResponses(t *testing.T) {
	const notModified = `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: ` +
		`specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}`
	tests := []struct {
		name   string
		setup  func(f *Fake, base string)
		path   string // after the base URL; "" means /bot<token>/<method>
		method string
		body   string
		status int
		want   string
	}{
		{name: "wrong token", path: "/bot999:wrong/getMe",
			status: 401, want: `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{name: "wrong token for a file", path: "/file/bot999:wrong/documents/file_0.pdf",
			status: 401, want: `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{name: "unknown method", method: "sendTelepathy", body: "chat_id=1",
			status: 404, want: `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{name: "unknown file", path: "/file/bot" + testToken + "/photos/nope.jpg",
			status: 404, want: `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{name: "chat_id missing", method: "sendMessage", body: "text=hi",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: chat_id is empty"}`},
		{name: "chat not found", method: "sendMessage", body: "chat_id=424242&text=hi",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`},
		{name: "empty text", method: "sendMessage", body: "chat_id=1001&text=",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`},
		{name: "text too long", method: "sendMessage",
			body:   "chat_id=1001&text=" + strings.Repeat("%F0%9F%98%80", 2049), // 2049 emoji = 4098 UTF-16 units
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`},
		{name: "kicked from group", method: "sendMessage", body: "chat_id=-1001234567890&text=hi",
			setup: func(f *Fake, _ string) {
				f.AddChat(group)
				f.Kick(group.ID, "Forbidden: bot was kicked from the group chat")
			},
			status: 403, want: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}`},
		{name: "blocked by user", method: "sendChatAction", body: "chat_id=1001&action=typing",
			setup:  func(f *Fake, _ string) { f.Kick(dm.ID, "Forbidden: bot was blocked by the user") },
			status: 403, want: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`},
		{name: "injected flood wait", method: "sendMessage", body: "chat_id=1001&text=hi",
			setup:  func(f *Fake, _ string) { f.Fail("sendmessage", 1, 429, "", 7) },
			status: 429, want: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`},
		{name: "upgraded group", method: "sendMessage", body: "chat_id=-4001&text=hi",
			setup:  func(f *Fake, _ string) { f.Migrate(-4001, -1009999999999) },
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009999999999}}`},
		{name: "edit unknown message", method: "editMessageText", body: "chat_id=1001&message_id=77&text=x",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message to edit not found"}`},
		{name: "edit without change", method: "editMessageText", body: "chat_id=1001&message_id=2&text=same",
			setup: func(f *Fake, base string) {
				if status, body := form(t, base, "sendMessage", "chat_id=1001&text=same"); status != 200 {
					t.Fatalf("sendMessage: %d %s", status, body)
				}
			},
			status: 400, want: notModified},
		{name: "delete unknown message", method: "deleteMessage", body: "chat_id=1001&message_id=77",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: message to delete not found"}`},
		{name: "unknown file_id", method: "getFile", body: "file_id=nope",
			status: 400, want: `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`},
		{name: "getUpdates while a webhook is set", method: "getUpdates", body: "offset=0",
			setup: func(f *Fake, base string) {
				if status, body := form(t, base, "setWebhook", "url=http%3A%2F%2F127.0.0.1%3A1%2Fhook"); status != 200 {
					t.Fatalf("setWebhook: %d %s", status, body)
				}
			},
			status: 409, want: `{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, base := start(t)
			f.UserSends(dm, alice, "hi") // message 1 in the private chat
			if tt.setup != nil {
				tt.setup(f, base)
			}
			path := tt.path
			if path == "" {
				path = "/bot" + testToken + "/" + tt.method
			}
			status, ctype, body := call(t, http.MethodPost, base+path, "application/x-www-form-urlencoded", tt.body)
			if status != tt.status || body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", status, body, tt.status, tt.want)
			}
			if ctype != "application/json" {
				t.Errorf("Content-Type: got %q", ctype)
			}
		})
	}
}

// TestClientSeesRetryAfter checks that tgbotapi turns a 429 into its
// *Error with RetryAfter, and that the failure is used up.
func TestClientSeesRetryAfter(t *testing.T) {
	f, base := start(t)
	bot := client(t, base)
	f.UserSends(dm, alice, "hi")
	f.Fail("SendMessage", 1, 429, "", 3)

	_, err := bot.Send(tgbotapi.NewMessage(dm.ID, "one"))
	var apiErr *tgbotapi.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v, want *tgbotapi.Error", err, err)
	}
	if apiErr.Code != 429 || apiErr.RetryAfter != 3 || apiErr.Message != "Too Many Requests: retry after 3" {
		t.Errorf("got %+v", apiErr)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(dm.ID, "two")); err != nil {
		t.Errorf("second send: %v", err)
	}
	if got := f.Count429(); got != 1 {
		t.Errorf("Count429: got %d, want 1", got)
	}
	if got := f.Calls("sendMessage"); got != 2 {
		t.Errorf("Calls: got %d, want 2", got)
	}
	if sent := f.Sent(); len(sent) != 1 || sent[0].Text != "two" {
		t.Errorf("Sent: got %+v", sent)
	}
}
