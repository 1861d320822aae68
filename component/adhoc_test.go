package component

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

const cmdNS = `xmlns="http://jabber.org/protocol/commands"`

var sessionIDs = regexp.MustCompile(`sessionid="[0-9a-f]{16}"`)

// adhocTests run in order against one SMS gateway (admin@example.test is
// an admin; alice has a number, bob has none): the commands module
// (package adhoc) through the gateway, its command list answered by the
// core's disco#items, and registration. The commands alone are tested in
// package adhoc.
var adhocTests = []struct{ name, in, out string }{
	{"user's command list",
		`<iq type="get" id="c1" from="alice@example.test/pc" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
		`<iq type="result" id="c1" from="sms.example.test" to="alice@example.test/pc"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"><item jid="sms.example.test" node="links" name="My links"></item></query></iq>`},
	{"admin's command list",
		`<iq type="get" id="c2" from="admin@example.test/pc" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
		`<iq type="result" id="c2" from="sms.example.test" to="admin@example.test/pc"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"><item jid="sms.example.test" node="links" name="My links"></item><item jid="sms.example.test" node="admin-links" name="All links (admin)"></item><item jid="sms.example.test" node="stats" name="Queue and error statistics (admin)"></item><item jid="sms.example.test" node="send-test" name="Send a test message (admin)"></item></query></iq>`},
	{"a stranger sees none",
		`<iq type="get" id="c3" from="mallory@evil.test/x" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
		`<iq type="result" id="c3" from="sms.example.test" to="mallory@evil.test/x"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"></query></iq>`},
	{"an admin without a number cannot send a test SMS",
		`<iq type="set" id="c10" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc" action="complete"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>+15557654321</value></field></x></command></iq>`,
		`<iq type="result" id="c10" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="completed"><note type="error">admin@example.test has no SMS account on transport &#34;sms&#34;: add it to that transport&#39;s numbers (an admin&#39;s messages, test messages too, go out from the admin&#39;s own number)</note></command></iq>`},
	{"registration shows the number",
		`<iq type="get" id="r1" from="alice@example.test/pc" to="sms.example.test"><query xmlns="jabber:iq:register"/></iq>`,
		`<iq type="result" id="r1" from="sms.example.test" to="alice@example.test/pc"><query xmlns="jabber:iq:register"><instructions>Your SMS number is +15550001111. Write to NUMBER@sms.example.test to reach a contact from it. The operator assigns numbers.</instructions><registered></registered><phone>+15550001111</phone></query></iq>`},
	{"registration without a number",
		`<iq type="get" id="r2" from="bob@example.test/pc" to="sms.example.test"><query xmlns="jabber:iq:register"/></iq>`,
		`<iq type="result" id="r2" from="sms.example.test" to="bob@example.test/pc"><query xmlns="jabber:iq:register"><instructions>You have no SMS number on this gateway; ask the operator to add one.</instructions></query></iq>`},
	{"registering without a number is not allowed",
		`<iq type="set" id="r3" from="bob@example.test/pc" to="sms.example.test"><query xmlns="jabber:iq:register"><phone>+15550009999</phone></query></iq>`,
		`<iq type="error" id="r3" from="sms.example.test" to="bob@example.test/pc"><error type="cancel"><not-allowed ` + errNS + `></not-allowed><text ` + errNS + `>the operator assigns SMS numbers; ask them to add one</text></error></iq>`},
	{"a configured number cannot be unregistered",
		`<iq type="set" id="r4" from="alice@example.test/pc" to="sms.example.test"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		`<iq type="error" id="r4" from="sms.example.test" to="alice@example.test/pc"><error type="cancel"><not-allowed ` + errNS + `></not-allowed><text ` + errNS + `>your SMS number is set in the gateway&#39;s config; ask the operator to remove it</text></error></iq>`},
}

func TestAdhocSMS(t *testing.T) {
	g, _, _ := testGateway(t)
	g.o.Admin = func(b string) bool { return b == "admin@example.test" }
	for _, tt := range adhocTests {
		got := sessionIDs.ReplaceAllString(handle(t, g, tt.in), `sessionid="S"`)
		if got != tt.out {
			t.Errorf("%s: wrote\n%s\nwant\n%s", tt.name, got, tt.out)
		}
	}
}

// TestAdhocSendTest queues an admin's test message like any other.
func TestAdhocSendTest(t *testing.T) {
	g, _, store := testGateway(t)
	g.o.Admin = func(b string) bool { return b == "alice@example.test" }
	out := handle(t, g, `<iq type="set" id="t1" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc" action="complete"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>+15557654321@sms.example.test</value></field><field var="text"><value>ping from ops</value></field></x></command></iq>`)
	want := `<iq type="result" id="t1" from="sms.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="completed"><note type="info">Queued a test message to +15557654321; a failure comes back to you as an error from +15557654321@sms.example.test.</note></command></iq>`
	if out != want {
		t.Fatalf("wrote\n%s\nwant\n%s", out, want)
	}
	jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("pending = %v, %v; want one job", jobs, err)
	}
	j := jobs[0]
	if j.Sender != "alice@example.test/pc" || j.Account != "+15550001111" || j.Remote != "+15557654321" || j.Body != "ping from ops" || !strings.HasPrefix(j.StanzaID, "test-") {
		t.Errorf("job = %+v", j)
	}
}

// TestAdhocStats reads the queue depth from the store.
func TestAdhocStats(t *testing.T) {
	g, _, store := testGateway(t)
	g.o.Admin = func(b string) bool { return b == "admin@example.test" }
	handle(t, g, `<message type="chat" id="m1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>one</body></message>`)
	handle(t, g, `<message type="chat" id="m2" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>two</body></message>`)
	if _, err := store.ToXMPP().Accept(context.Background(), "sms", "k", []byte("<message/>")); err != nil {
		t.Fatal(err)
	}
	out := handle(t, g, `<iq type="set" id="s1" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="stats"/></iq>`)
	want := "<note type=\"info\">SMS gateway sms.example.test: component not connected; SMS reachable.\nQueued: 2 to SMS, 1 to XMPP.\nSince start: 0 sent, 0 received, 0 failed, 0 retries, 0 refused, 0 over quota, 0 duplicates ignored, 0 reaching nobody.</note>"
	if !strings.Contains(out, want) {
		t.Fatalf("wrote\n%s\nwant it to contain\n%s", out, want)
	}
}

// TestAdhocLinked runs the linking commands of a Linker transport: a
// user's code links listed and unlinked, an admin's link and removal.
func TestAdhocLinked(t *testing.T) {
	g, _, store := linkedGateway(t)
	g.o.Admin = func(b string) bool { return b == "admin@example.test" }
	ctx := context.Background()
	steps := []struct{ name, in, out, queued string }{
		{"admin links a chat to bob",
			`<iq type="set" id="a1" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test</value></field><field var="chat"><value>+15550003333@tg.example.test</value></field></x></command></iq>`,
			`<iq type="result" id="a1" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="info">Linked +15550003333@tg.example.test to bob@example.test.</note></command></iq>`,
			`<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` + "\n" +
				`<message type="chat" from="tg.example.test" to="bob@example.test"><body>An administrator linked Telegram chat +15550003333 to you: it is your contact +15550003333@tg.example.test.</body></message>` + "\n"},
		{"a config link cannot be taken",
			`<iq type="set" id="a2" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test</value></field><field var="chat"><value>+15550002222</value></field></x></command></iq>`,
			`<iq type="result" id="a2" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">+15550002222 is linked already; remove that link first.</note></command></iq>`, ""},
		{"a user outside access.allow is refused",
			`<iq type="set" id="a6" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>mallory@evil.test</value></field><field var="chat"><value>+15550004444</value></field></x></command></iq>`,
			`<iq type="result" id="a6" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">mallory@evil.test may not use this gateway (access.allow).</note></command></iq>`, ""},
		{"a bad user is named",
			`<iq type="set" id="a3" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>example.test</value></field><field var="chat"><value>+15550004444</value></field></x></command></iq>`,
			`<iq type="result" id="a3" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">&#34;example.test&#34; is not a bare JID (user@domain).</note></command></iq>`, ""},
		{"all links",
			`<iq type="set" id="a4" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-links"/></iq>`,
			`<iq type="result" id="a4" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-links" status="completed"><note type="info">2 links:` + "\n" + `alice@example.test: +15550002222@tg.example.test (set in the config)` + "\n" + `bob@example.test: +15550003333@tg.example.test</note></command></iq>`, ""},
		{"bob's unlink form offers his chat",
			`<iq type="set" id="u1" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" action="execute"/></iq>`,
			`<iq type="result" id="u1" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="S" status="executing"><actions execute="complete"><complete></complete></actions><x xmlns="jabber:x:data" type="form"><title>Unlink Telegram chats</title><field var="chats" type="list-multi" label="Chats to unlink"><required></required><option label="+15550003333@tg.example.test"><value>+15550003333</value></option></field></x></command></iq>`, ""},
		{"alice cannot unlink bob's chat",
			`<iq type="set" id="u2" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="y"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550003333</value></field></x></command></iq>`,
			`<iq type="result" id="u2" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="y" status="completed"><note type="error">+15550003333 is not linked to you.</note></command></iq>`, ""},
		{"alice has only a config link: nothing to unlink",
			`<iq type="set" id="u3" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink"/></iq>`,
			`<iq type="result" id="u3" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="unlink" status="completed"><note type="info">No chat that you linked is linked to you (links set in the config stay).</note></command></iq>`, ""},
		{"bob unlinks",
			`<iq type="set" id="u4" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="z"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550003333</value></field></x></command></iq>`,
			`<iq type="result" id="u4" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="z" status="completed"><note type="info">Unlinked +15550003333.</note></command></iq>`,
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` + "\n" +
				`<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` + "\n" +
				`<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` + "\n" +
				`<message type="chat" from="tg.example.test" to="bob@example.test"><body>Unlinked Telegram chat +15550003333.</body></message>` + "\n"},
		{"admin cannot remove a config link",
			`<iq type="set" id="a5" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-unlink" sessionid="w"><x xmlns="jabber:x:data" type="submit"><field var="chat"><value>+15550002222</value></field></x></command></iq>`,
			`<iq type="result" id="a5" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-unlink" sessionid="w" status="completed"><note type="error">+15550002222: this chat&#39;s link is set in the gateway&#39;s config; ask its operator to change it</note></command></iq>`, ""},
		{"an admin tests a chat linked to another user",
			`<iq type="set" id="t1" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="v"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>+15550002222</value></field></x></command></iq>`,
			`<iq type="result" id="t1" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="v" status="completed"><note type="info">Queued a test message to +15550002222; a failure comes back to you as an error from +15550002222@tg.example.test.</note></command></iq>`, ""},
		{"my links",
			`<iq type="set" id="l1" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			`<iq type="result" id="l1" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="links" status="completed"><note type="info">Your linked Telegram chats:` + "\n" + `+15550002222@tg.example.test (set in the config)</note></command></iq>`, ""},
	}
	for _, s := range steps {
		got := sessionIDs.ReplaceAllString(handle(t, g, s.in), `sessionid="S"`)
		if got != s.out {
			t.Errorf("%s: wrote\n%s\nwant\n%s", s.name, got, s.out)
		}
		if s.queued != "" {
			if q := queuedFor(t, store, "tg"); q != s.queued {
				t.Errorf("%s: queued\n%s\nwant\n%s", s.name, q, s.queued)
			}
		}
	}
	if l, ok, _ := store.Links().LinkOf(ctx, "tg", "+15550003333"); ok {
		t.Errorf("link left after unlink: %+v", l)
	}
}
