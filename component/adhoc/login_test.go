package adhoc

import (
	"context"
	"errors"
	"slices"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core/coretest"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// loginTransport is a transport users sign in to, scripted: phone, code,
// password, with "bad" answers refused.
type loginTransport struct {
	transporttest.Transport
	begun    []string
	answers  []string
	loggedIn map[string]bool
}

func (l *loginTransport) BeginLogin(_ context.Context, user string) transports.Prompt {
	l.begun = append(l.begun, user)
	return transports.Prompt{Field: "phone", Label: "Phone"}
}

func (l *loginTransport) LoginAnswer(_ context.Context, user, field, value string) (*transports.Prompt, string, error) {
	l.answers = append(l.answers, field+"="+value)
	switch {
	case value == "bad":
		return &transports.Prompt{Field: field, Label: "Again", Secret: field == "password"}, "", &transports.LoginError{Msg: "the " + field + " is wrong"}
	case value == "down":
		return nil, "", errors.New("network down")
	case field == "phone":
		return &transports.Prompt{Field: "code", Label: "Code"}, "", nil
	case field == "code":
		return &transports.Prompt{Field: "password", Label: "Password <2FA>", Secret: true}, "", nil
	}
	l.loggedIn[user] = true
	return nil, "You are in & done.", nil
}

func (l *loginTransport) Logout(_ context.Context, user string) error {
	if !l.loggedIn[user] {
		return transports.ErrNotLoggedIn
	}
	delete(l.loggedIn, user)
	return nil
}

// TestLoginCommands runs the sign-in of a transports.Login transport,
// stage by stage, and the logout.
func TestLoginCommands(t *testing.T) {
	tr := &loginTransport{Transport: transporttest.Transport{TransportName: "tg"}, loggedIn: map[string]bool{}}
	f := &fakeCore{Core: coretest.New("tg.example.test", tr, openStore(t))}
	f.Ident = transports.Identity{Gateway: "telegram", Name: "Telegram"}
	m := newCommands(f)
	const form = `<actions execute="complete"><complete></complete></actions>`
	cmd := func(id, node, inner string) string {
		return `<iq type="set" id="` + id + `" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="` + node + `" sessionid="s1">` + inner + `</command></iq>`
	}
	answer := func(field, value string) string {
		return `<x xmlns="jabber:x:data" type="submit"><field var="` + field + `"><value>` + value + `</value></field></x>`
	}
	result := func(id, inner string) string {
		return `<iq type="result" id="` + id + `" from="tg.example.test" to="alice@example.test/pc">` + inner + `</iq>`
	}
	tests := []struct{ in, out string }{
		0: { // the commands offered
			`<iq type="get" id="d1" from="alice@example.test/pc" to="tg.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
			``},
		1: { // the first question
			`<iq type="set" id="l1" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login" action="execute"/></iq>`,
			result("l1", `<command `+cmdNS+` node="login" sessionid="S" status="executing">`+form+`<x xmlns="jabber:x:data" type="form"><title>Log in to Telegram</title><field var="phone" type="text-single" label="Phone"><required></required></field></x></command>`)},
		2: { // a wrong answer is named, and asked again
			cmd("l2", "login", answer("phone", "bad")),
			result("l2", `<command `+cmdNS+` node="login" sessionid="s1" status="executing">`+form+`<note type="error">the phone is wrong</note><x xmlns="jabber:x:data" type="form"><title>Log in to Telegram</title><field var="phone" type="text-single" label="Again"><required></required></field></x></command>`)},
		3: {
			cmd("l3", "login", answer("phone", "+15550001111")),
			result("l3", `<command `+cmdNS+` node="login" sessionid="s1" status="executing">`+form+`<x xmlns="jabber:x:data" type="form"><title>Log in to Telegram</title><field var="code" type="text-single" label="Code"><required></required></field></x></command>`)},
		4: { // a password is a private field
			cmd("l4", "login", answer("code", "12345")),
			result("l4", `<command `+cmdNS+` node="login" sessionid="s1" status="executing">`+form+`<x xmlns="jabber:x:data" type="form"><title>Log in to Telegram</title><field var="password" type="text-private" label="Password &lt;2FA&gt;"><required></required></field></x></command>`)},
		5: {
			cmd("l5", "login", answer("password", "hunter2")),
			result("l5", `<command `+cmdNS+` node="login" sessionid="s1" status="completed"><note type="info">You are in &amp; done.</note></command>`)},
		6: { // a failure that is no wrong answer ends the command
			cmd("l6", "login", answer("code", "down")),
			result("l6", `<command `+cmdNS+` node="login" sessionid="s1" status="completed"><note type="error">The login failed: network down. Run the command again to retry.</note></command>`)},
		7: { // a form that answers nothing
			cmd("l7", "login", answer("colour", "red")),
			`<iq type="error" id="l7" from="tg.example.test" to="alice@example.test/pc"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>the form answers none of the questions (phone, code, password)</text></error></iq>`},
		8: { // cancel
			cmd("l8", "login", `<x xmlns="jabber:x:data" type="cancel"/>`),
			result("l8", `<command `+cmdNS+` node="login" sessionid="s1" status="canceled"></command>`)},
		9: {
			cmd("o1", "logout", ""),
			result("o1", `<command `+cmdNS+` node="logout" sessionid="s1" status="completed"><note type="info">You are logged out of Telegram; your session is deleted.</note></command>`)},
		10: {
			cmd("o2", "logout", ""),
			result("o2", `<command `+cmdNS+` node="logout" sessionid="s1" status="completed"><note type="error">You are not logged in to Telegram.</note></command>`)},
		11: { // strangers may not log in
			`<iq type="set" id="x1" from="mallory@evil.test/x" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login"/></iq>`,
			`<iq type="error" id="x1" from="tg.example.test" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not run login</text></error></iq>`},
	}
	for i, tt := range tests {
		if i == 0 {
			items := m.(*Commands).Items(jid.MustParse("alice@example.test/pc"))
			if len(items) < 2 || items[0].Node != "login" || items[0].Name != "Log in to Telegram" || items[1].Node != "logout" || items[1].Name != "Log out of Telegram" {
				t.Errorf("commands: %+v", items)
			}
			continue
		}
		if got := serve(t, m, tt.in); got != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
		}
	}
	if want := []string{"phone=bad", "phone=+15550001111", "code=12345", "password=hunter2", "code=down"}; !slices.Equal(tr.answers, want) {
		t.Errorf("answers passed: %q, want %q", tr.answers, want)
	}
}
