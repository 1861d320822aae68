package botfake

import (
	"strings"
	"testing"
)

func TestKickAppliesToChatCalls(t *testing.T) {
	f, base := start(t)
	f.UserSends(group, alice, "hi")
	_, sent := form(t, base, "sendMessage", "chat_id=-1001234567890&text=before")
	if !strings.Contains(sent, `"ok":true`) {
		t.Fatalf("send before kick: %s", sent)
	}
	f.Kick(group.ID, "")
	want := `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`
	for _, c := range []struct{ method, body string }{
		{"sendMessage", "chat_id=-1001234567890&text=x"},
		{"editMessageText", "chat_id=-1001234567890&message_id=2&text=x"},
		{"deleteMessage", "chat_id=-1001234567890&message_id=2"},
		{"sendChatAction", "chat_id=-1001234567890&action=typing"},
	} {
		if status, body := form(t, base, c.method, c.body); status != 403 || body != want {
			t.Errorf("%s: got %d %s", c.method, status, body)
		}
	}
	if status, _ := form(t, base, "getChat", "chat_id=-1001234567890"); status != 200 {
		t.Errorf("getChat of a kicked chat: %d", status)
	}
	f.Unkick(group.ID)
	if status, body := form(t, base, "sendMessage", "chat_id=-1001234567890&text=back"); status != 200 {
		t.Errorf("after Unkick: %d %s", status, body)
	}
}

func TestRateLimit(t *testing.T) {
	f, base := start(t)
	f.UserSends(dm, alice, "hi")
	f.SetRateLimit(0.5) // one call per two seconds: the second call at once is over
	calls := []struct {
		method, body string
		status       int
	}{
		{"sendMessage", "chat_id=1001&text=one", 200},
		{"sendChatAction", "chat_id=1001&action=typing", 429},
		{"getChat", "chat_id=1001", 200}, // not throttled
	}
	for _, c := range calls {
		status, body := form(t, base, c.method, c.body)
		if status != c.status {
			t.Errorf("%s: got %d %s, want %d", c.method, status, body, c.status)
		}
		if status == 429 && body != `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}` {
			t.Errorf("429 body: %s", body)
		}
	}
	if f.Count429() != 1 {
		t.Errorf("Count429: %d", f.Count429())
	}
	f.SetRateLimit(0)
	for range 3 {
		if status, body := form(t, base, "sendMessage", "chat_id=1001&text=free"); status != 200 {
			t.Errorf("unlimited: %d %s", status, body)
		}
	}
}

func TestFailQueuesPerMethod(t *testing.T) {
	f, base := start(t)
	f.Fail("getMe", 2, 500, "", 0)
	f.Fail("getme", 1, 502, "Bad Gateway", 0)
	want := []struct {
		status int
		body   string
	}{
		{500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		{500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		{502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`},
		{200, `{"ok":true,"result":{"id":7000001,"is_bot":true,"first_name":"xmppgw test bot","username":"xmppgw_test_bot",` +
			`"can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}}`},
	}
	for i, w := range want {
		if status, body := form(t, base, "getMe", ""); status != w.status || body != w.body {
			t.Errorf("call %d: got %d %s, want %d %s", i, status, body, w.status, w.body)
		}
	}
}

func TestEditRules(t *testing.T) {
	f, base := start(t)
	f.UserSends(dm, alice, "user text") // message 1
	form(t, base, "sendMessage", "chat_id=1001&text=bot+text")
	tests := []struct {
		name, body string
		status     int
		wantDesc   string
	}{
		{"someone else's message", "chat_id=1001&message_id=1&text=x", 400, "Bad Request: message can't be edited"},
		{"empty text", "chat_id=1001&message_id=2&text=", 400, "Bad Request: message text is empty"},
		{"no message_id", "chat_id=1001&text=x", 400, "Bad Request: message identifier is not specified"},
		{"changed", "chat_id=1001&message_id=2&text=new+text", 200, ""},
		{"parse mode change counts", "chat_id=1001&message_id=2&text=new+text&parse_mode=HTML", 200, ""},
		{"bad parse mode", "chat_id=1001&message_id=2&text=x&parse_mode=BBCode", 400, "Bad Request: unsupported parse_mode"},
	}
	for _, tt := range tests {
		status, body := form(t, base, "editMessageText", tt.body)
		if status != tt.status || (tt.wantDesc != "" && !strings.Contains(body, `"description":"`+tt.wantDesc+`"`)) {
			t.Errorf("%s: got %d %s", tt.name, status, body)
		}
	}
	if e := f.Edits(); len(e) != 2 {
		t.Errorf("Edits: %+v", e)
	}
	if s := f.Sent(); len(s) != 1 || s[0].Text != "new text" || s[0].ParseMode != "HTML" || s[0].EditDate == 0 {
		t.Errorf("Sent: %+v", s)
	}
}

func TestWaitSent(t *testing.T) {
	f, base := start(t)
	f.UserSends(dm, alice, "hi")
	go func() {
		_, _, _, _ = do("POST", base+"/bot"+testToken+"/sendMessage", "application/x-www-form-urlencoded", "chat_id=1001&text=async")
	}()
	sent, err := f.WaitSent(testContext(t), 1)
	if err != nil || len(sent) != 1 || sent[0].Text != "async" {
		t.Fatalf("WaitSent: %v %+v", err, sent)
	}
	ctx, cancel := testContextCancelled()
	defer cancel()
	if _, err := f.WaitSent(ctx, 2); err == nil || !strings.Contains(err.Error(), "bot sent 1 message(s), want 2") {
		t.Errorf("WaitSent with a done context: %v", err)
	}
}
