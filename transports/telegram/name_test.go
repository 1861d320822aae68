package telegram

import (
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

// ContactName is a group's title or a person's name, from getChat.
func TestContactName(t *testing.T) {
	tr, fake := newTest(t, "polling", nil)
	fake.AddChat(botfake.Chat{ID: 4242, Type: "private", FirstName: "Dana", LastName: "Scully"})
	fake.AddChat(botfake.Chat{ID: -1001234, Type: "supergroup", Title: "Ops team"})
	for _, tt := range []struct {
		remote transports.Addr
		want   string
	}{
		{"4242", "Dana Scully"},
		{"-1001234", "Ops team"},
	} {
		got, err := tr.ContactName(testCtx(t), "alice@example.test", tt.remote)
		if err != nil || got != tt.want {
			t.Errorf("ContactName(%s) = %q, %v; want %q", tt.remote, got, err, tt.want)
		}
	}
	if _, err := tr.ContactName(testCtx(t), "alice@example.test", "777"); err == nil {
		t.Error("an unknown chat: no error")
	}
}
