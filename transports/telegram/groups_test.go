package telegram

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

// In a group, /link and /unlink go to the sink's GroupLinker with the member
// who asked and whether Telegram says they administer the group; only the
// member who linked it or an administrator may change a linked group; and
// the bot's answers there never name the XMPP user.
func TestGroupCommands(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.codes["BOBCODE2"] = "alice@example.test"
	sink.codes["ALICE234"] = "mallory@example.test"
	sink.codes["AGAIN234"] = "alice@example.test"
	run(t, tr, sink)
	ctx := testCtx(t)
	carol := botfake.User{ID: 333, FirstName: "Carol"}
	fake.SetMemberStatus(group, carol, "administrator")
	anonymous := func(text string) func() { // an administrator posting as the group
		return func() {
			fake.PushUpdate(json.RawMessage(fmt.Sprintf(`{"message":{"message_id":900,"date":1,"chat":{"id":%d,"type":"supergroup","title":"Ops"},`+
				`"from":{"id":1087968824,"is_bot":true,"first_name":"Group","username":"GroupAnonymousBot"},`+
				`"sender_chat":{"id":%d,"type":"supergroup","title":"Ops"},"text":%q}}`, group.ID, group.ID, text)))
		}
	}
	says := func(u botfake.User, text string) func() { return func() { fake.UserSends(group, u, text) } }

	steps := []struct {
		send  func()
		reply string
		asker transports.Asker
	}{
		0: {says(bob, "/link BOBCODE2"), "This chat is now linked to an XMPP user.", transports.Asker{Member: "222"}},
		1: {says(alice, "/unlink"), "Not unlinked: not yours", transports.Asker{Member: "111"}},
		2: {says(alice, "/link ALICE234"), "Not linked: not yours", transports.Asker{Member: "111"}},
		3: {says(carol, "/unlink@xmppgw_test_bot"), "This chat is no longer linked to an XMPP user.", transports.Asker{Member: "333", Admin: true}},
		4: {says(alice, "/link ALICE234"), "This chat is now linked to an XMPP user.", transports.Asker{Member: "111"}},
		5: {says(bob, "/unlink"), "Not unlinked: not yours", transports.Asker{Member: "222"}},
		6: {anonymous("/unlink"), "This chat is no longer linked to an XMPP user.", transports.Asker{Member: "-1001234", Admin: true}},
		7: {says(bob, "/link AGAIN234"), "This chat is now linked to an XMPP user.", transports.Asker{Member: "222"}},
		8: {says(bob, "/unlink"), "This chat is no longer linked to an XMPP user.", transports.Asker{Member: "222"}},
	}
	var want []transports.Asker
	for i, st := range steps {
		n := len(fake.Sent())
		st.send()
		msgs, err := fake.WaitSent(ctx, n+1)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		last := msgs[len(msgs)-1]
		if last.Chat.ID != group.ID || last.Text != st.reply {
			t.Errorf("%d: answered %q in %d, want %q", i, last.Text, last.Chat.ID, st.reply)
		}
		if strings.Contains(last.Text, "@example.test") {
			t.Errorf("%d: the answer names the XMPP user: %q", i, last.Text)
		}
		want = append(want, st.asker)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !reflect.DeepEqual(sink.askers, want) {
		t.Errorf("askers %+v\nwant %+v", sink.askers, want)
	}
	if got := fake.Calls("getChatMember"); got != 8 { // all but the anonymous administrator
		t.Errorf("%d getChatMember calls, want 8", got)
	}
}
