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

// When Telegram upgrades a linked group to a supergroup, the old group gets
// a service message with migrate_to_chat_id: its user learns that the link
// does not follow the new id and how to link the supergroup. The
// supergroup's own service message (migrate_from_chat_id) finds it not
// linked, and the bot tells it how to link itself.
func TestGroupUpgradedToSupergroup(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.linked["-4001"] = "alice@example.test"
	run(t, tr, sink)
	fake.PushUpdate(json.RawMessage(`{"message":{"message_id":7,"from":{"id":111,"is_bot":false,"first_name":"Alice"},` +
		`"chat":{"id":-4001,"type":"group","title":"Ops"},"date":1700000000,"migrate_to_chat_id":-1009999999999}}`))
	got := sink.waitInbound(t, 1)
	want := transports.Inbound{From: "-4001", ID: "-4001:7", Name: "Ops", Group: true, Sender: "Alice", SenderID: "111",
		Body: `[Telegram upgraded this group to a supergroup, with a new id: -1009999999999. The link does not follow it: ` +
			`messages to this address fail from now on, and the supergroup's reach no one until you link it: ` +
			`send "link" to telegram.example.test, then /link CODE in the supergroup with the code you get. ` +
			`Its address will be -1009999999999@telegram.example.test.]`}
	got[0].Time = want.Time
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("the linked user gets\n%+v\nwant\n%+v", got[0], want)
	}

	fake.PushUpdate(json.RawMessage(`{"message":{"message_id":1,"from":{"id":111,"is_bot":false,"first_name":"Alice"},` +
		`"chat":{"id":-1009999999999,"type":"supergroup","title":"Ops"},"date":1700000000,"migrate_from_chat_id":-4001}}`))
	msgs, err := fake.WaitSent(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := msgs[0]; m.Chat.ID != -1009999999999 || !strings.HasPrefix(m.Text, "This chat is not linked to anyone on XMPP") {
		t.Errorf("the supergroup is told %q in %d, want how to link it", m.Text, m.Chat.ID)
	}
	if n := len(sink.got()); n != 1 {
		t.Errorf("the sink got %d messages, want only the old group's", n)
	}
}
