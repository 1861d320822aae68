package botfake

import (
	"context"
	"net/http"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// getChatMember answers from what the fake knows: who wrote in the chat,
// and the statuses a test set.
func TestGetChatMember(t *testing.T) {
	f := New("1:tok")
	defer f.Close()
	bot, err := tgbotapi.NewBotAPIWithClient("1:tok", f.Start()+"/bot%s/%s", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	group := Chat{ID: -1001, Title: "Ops"}
	carol, dave, erin := User{ID: 7, FirstName: "Carol"}, User{ID: 8, FirstName: "Dave"}, User{ID: 9, FirstName: "Erin"}
	f.UserSends(group, carol, "hi")
	f.SetMemberStatus(group, dave, "administrator")
	f.UserSends(group, dave, "hello") // writing keeps the status
	f.SetMemberStatus(group, erin, "creator")

	ask := func(chat, user int64) (tgbotapi.ChatMember, error) {
		return bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: chat, UserID: user}})
	}
	for _, c := range []struct {
		chat, user int64
		status     string
		err        string
	}{
		{-1001, 7, "member", ""},
		{-1001, 8, "administrator", ""},
		{-1001, 9, "creator", ""},
		{-1001, DefaultBotID, "member", ""},
		{-1001, 10, "", "Bad Request: user not found"},
		{-2002, 7, "", "Bad Request: chat not found"},
	} {
		m, err := ask(c.chat, c.user)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("chat %d user %d: %+v, %v; want %q", c.chat, c.user, m, err, c.err)
		case c.err == "" && (err != nil || m.Status != c.status || m.User == nil || m.User.ID != c.user):
			t.Errorf("chat %d user %d: %+v, %v; want %s", c.chat, c.user, m, err, c.status)
		}
	}
	if m, _ := ask(-1001, 8); m.User.FirstName != "Dave" {
		t.Errorf("user %+v", m.User)
	}
	if err := f.WaitFor(context.Background(), func() bool { return f.Calls("getChatMember") == 7 }); err != nil {
		t.Error(err)
	}
}
