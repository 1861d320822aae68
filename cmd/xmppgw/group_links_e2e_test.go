//go:build integration

package main

import (
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
)

// Linking a Telegram group, end to end: a user's newer code replaces the
// older; any member may link the group with a code, then only that member
// or an administrator (Telegram's getChatMember) may unlink it; and the
// bot's answers in the group never name the XMPP user.
func TestTelegramGroupLinkRules(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		tgCarol := botfake.User{ID: 333, FirstName: "Carol"}
		e.tg.SetMemberStatus(tgGroup, tgCarol, "administrator")

		say := func(who botfake.User, text, want string) {
			t.Helper()
			n := len(e.tg.SentTo(tgGroup.ID))
			e.tg.UserSends(tgGroup, who, text)
			if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.SentTo(tgGroup.ID)) > n }); err != nil {
				t.Fatalf("%s: no answer: %v", text, err)
			}
			got := e.tg.SentTo(tgGroup.ID)[n].Text
			if !strings.HasPrefix(got, want) {
				t.Errorf("%s %q: answered %q, want %q...", who.FirstName, text, got, want)
			}
			if strings.Contains(got, "alice") {
				t.Errorf("%s %q: the answer names the XMPP user: %q", who.FirstName, text, got)
			}
		}
		old := linkCode(t, alice)
		code := linkCode(t, alice)
		say(tgBob, "/link "+old, "Not linked: that code is unknown or has expired")
		say(tgBob, "/link "+code, "This chat is now linked to an XMPP user.")
		nextWhere(t, alice, "the subscription request", from("-1001234@telegram.example.test", "presence", "subscribe"))
		if m := nextWhere(t, alice, "the notice", from("telegram.example.test", "message", "chat")); !strings.HasPrefix(m.Body, "Linked Telegram chat") {
			t.Errorf("notice %q", m.Body)
		}
		say(tgAlice, "/unlink", "Not unlinked: only the member who linked this chat, or an administrator of it, may change its link")
		say(tgAlice, "/link "+linkCode(t, alice), "Not linked: only the member who linked this chat")
		say(tgCarol, "/unlink", "This chat is no longer linked to an XMPP user.")
	})
}
