package adhoc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/core/coretest"
	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

const (
	cmdNS = `xmlns="http://jabber.org/protocol/commands"`
	errNS = `xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"`
)

var sessionIDs = regexp.MustCompile(`sessionid="[0-9a-f]{16}"`)

// fakeCore is the part of core.Core the commands use; the link and
// operation methods answer from its fields and record their calls.
type fakeCore struct {
	*coretest.Core

	status  core.Status
	sendErr error    // SendTest's answer
	calls   []string // the link and send methods called, in order
}

func (f *fakeCore) Status() core.Status { return f.status }

func (f *fakeCore) DescribeLink(l mapping.Link) string {
	s := l.Remote + "@" + f.Domain().String()
	if l.Static {
		s += " (set in the config)"
	}
	return s
}

func (f *fakeCore) LinksText(_ context.Context, user string) (string, error) {
	return "links of " + user, nil
}

func (f *fakeCore) NewLinkCode(_ context.Context, user string) (string, error) {
	f.calls = append(f.calls, "NewLinkCode "+user)
	return "Send /link CODE to the bot.", nil
}

func (f *fakeCore) AddLink(_ context.Context, remote transports.Addr, user string) error {
	f.calls = append(f.calls, fmt.Sprintf("AddLink %s %s", remote, user))
	if remote == "+15550002222" {
		return fmt.Errorf("store: %w", mapping.ErrStaticLink)
	}
	return nil
}

func (f *fakeCore) RemoveLink(_ context.Context, remote transports.Addr) (string, error) {
	f.calls = append(f.calls, "RemoveLink "+string(remote))
	if remote == "+15550002222" {
		return "", &transports.LinkError{Msg: "set in the config"}
	}
	return "bob@example.test", nil
}

// RemoveOwnLink answers as the store would, from its links, without
// removing any.
func (f *fakeCore) RemoveOwnLink(ctx context.Context, remote transports.Addr, user string) error {
	f.calls = append(f.calls, fmt.Sprintf("RemoveOwnLink %s %s", remote, user))
	l, ok, err := f.Store().Links().LinkOf(ctx, f.Name(), string(remote))
	switch {
	case err != nil:
		return err
	case !ok || l.User != user:
		return fmt.Errorf("store: %w", mapping.ErrNotLinked)
	case l.Static:
		return &transports.LinkError{Msg: "set in the config"}
	}
	return nil
}

func (f *fakeCore) SendTest(_ context.Context, from jid.JID, remote transports.Addr, text string) error {
	f.calls = append(f.calls, fmt.Sprintf("SendTest %s %s %q", from, remote, text))
	return f.sendErr
}

// smsCore is an SMS gateway's: alice and carol have a number, bob none.
func smsCore(t *testing.T) *fakeCore {
	f := &fakeCore{Core: coretest.New("sms.example.test", &transporttest.Transport{TransportName: "sms", Accts: map[string]transports.Addr{
		"alice@example.test": "+15550001111",
		"carol@example.test": "+15550001111",
	}}, openStore(t))}
	f.Ident = transports.Identity{Gateway: "sms", Name: "SMS", Prompt: "Phone number"}
	return f
}

// linkedCore is a Telegram-like gateway's: +15550002222 is linked to alice
// in the config, +15550003333 to bob with a code.
func linkedCore(t *testing.T) *fakeCore {
	f := &fakeCore{Core: coretest.New("tg.example.test", &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}, openStore(t))}
	f.Ident = transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"}
	ctx := context.Background()
	if err := f.Store().Links().SyncStaticLinks(ctx, "tg", map[string]string{"+15550002222": "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Store().Links().AddLink(ctx, "tg", "+15550003333", "bob@example.test"); err != nil {
		t.Fatal(err)
	}
	return f
}

func openStore(t *testing.T) *mapping.Store {
	t.Helper()
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// serve routes one stanza, written as XML, through the module's routes and
// returns what is written back, with session ids replaced by S.
func serve(t *testing.T, m core.Instance, in string) string {
	t.Helper()
	s := routertest.Stanza(t, in, router.Contact)
	if s.To.Localpart() == "" {
		s.Target = router.Gateway
	}
	var w routertest.Writer
	router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), m.Routes()...).Dispatch(context.Background(), &w, s)
	return sessionIDs.ReplaceAllString(w.String(), `sessionid="S"`)
}

// TestCommandsSMS runs the commands of an SMS gateway, whose chats are not
// linked one by one (admin@example.test is an admin).
func TestCommandsSMS(t *testing.T) {
	f := smsCore(t)
	m := newCommands(f)
	tests := []struct{ in, out string }{
		0: { // my links shows the number
			`<iq type="set" id="c4" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links" action="execute"/></iq>`,
			`<iq type="result" id="c4" from="sms.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="links" status="completed"><note type="info">Your SMS number is +15550001111. Write to NUMBER@sms.example.test to reach a contact from it.</note></command></iq>`},
		1: { // no number
			`<iq type="set" id="c5" from="bob@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links" action="execute"/></iq>`,
			`<iq type="result" id="c5" from="sms.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="links" status="completed"><note type="info">You have no SMS number on this gateway; ask the operator to add one.</note></command></iq>`},
		2: { // admin command refused to a user
			`<iq type="set" id="c6" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="stats" action="execute"/></iq>`,
			`<iq type="error" id="c6" from="sms.example.test" to="alice@example.test/pc"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>alice@example.test may not run stats</text></error></iq>`},
		3: { // linking commands do not exist for SMS
			`<iq type="set" id="c7" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" action="execute"/></iq>`,
			`<iq type="error" id="c7" from="sms.example.test" to="admin@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>no such command: admin-link</text></error></iq>`},
		4: { // all links lists the configured numbers
			`<iq type="set" id="c8" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-links"/></iq>`,
			`<iq type="result" id="c8" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-links" status="completed"><note type="info">2 links:` + "\n" + `alice@example.test: +15550001111 (set in the config)` + "\n" + `carol@example.test: +15550001111 (set in the config)</note></command></iq>`},
		5: { // send-test asks for a form
			`<iq type="set" id="c9" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" action="execute"/></iq>`,
			`<iq type="result" id="c9" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="S" status="executing"><actions execute="complete"><complete></complete></actions><x xmlns="jabber:x:data" type="form"><title>Send a test message</title><field var="to" type="text-single" label="Phone number"><required></required></field><field var="text" type="text-single" label="Text"><value>Test message from xmppgw</value></field></x></command></iq>`},
		6: { // a bad number is named
			`<iq type="set" id="c11" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>12ab</value></field></x></command></iq>`,
			`<iq type="result" id="c11" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="completed"><note type="error">&#34;12ab&#34;: fake: &#34;12ab&#34; is not an E.164 number</note></command></iq>`},
		7: { // cancel
			`<iq type="set" id="c12" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc" action="cancel"/></iq>`,
			`<iq type="result" id="c12" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="canceled"></command></iq>`},
		8: { // unknown command
			`<iq type="set" id="c13" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="rm-rf"/></iq>`,
			`<iq type="error" id="c13" from="sms.example.test" to="alice@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>no such command: rm-rf</text></error></iq>`},
		9: { // commands are executed with a set
			`<iq type="get" id="g1" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			`<iq type="error" id="g1" from="sms.example.test" to="alice@example.test/pc"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>commands are executed with an iq of type set</text></error></iq>`},
		10: { // one stage only
			`<iq type="set" id="g2" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc" action="prev"/></iq>`,
			`<iq type="error" id="g2" from="sms.example.test" to="admin@example.test/pc"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>this command has one stage: execute, complete or cancel</text></error></iq>`},
		11: { // a stranger may run nothing
			`<iq type="set" id="g3" from="mallory@evil.test/x" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			`<iq type="error" id="g3" from="sms.example.test" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not run links</text></error></iq>`},
		12: { // a form of type cancel cancels
			`<iq type="set" id="g4" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc"><x xmlns="jabber:x:data" type="cancel"/></command></iq>`,
			`<iq type="result" id="g4" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="canceled"></command></iq>`},
		13: { // an IQ result is no command
			`<iq type="result" id="g5" from="alice@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			``},
		14: { // stats (the store's queues are empty)
			`<iq type="set" id="s1" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="stats"/></iq>`,
			`<iq type="result" id="s1" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="stats" status="completed"><note type="info">SMS gateway sms.example.test: component connected; SMS unreachable: no route.` + "\n" + `Queued: 0 to SMS, 0 to XMPP.` + "\n" + `Since start: 1 sent, 2 received, 3 failed, 4 retries, 5 refused, 6 over quota, 7 duplicates ignored, 8 reaching nobody.</note></command></iq>`},
	}
	f.status = core.Status{Connected: true, Why: "no route", Sent: 1, Received: 2, Failed: 3, Retries: 4, Refused: 5, OverQuota: 6, Duplicates: 7, Unowned: 8}
	for i, tt := range tests {
		if got := serve(t, m, tt.in); got != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
		}
	}
	if f.calls != nil {
		t.Errorf("core called: %q", f.calls)
	}
}

// TestSendTest passes the admin's test message to the core, and shows why
// the core refused it; a store failure answers the command.
func TestSendTest(t *testing.T) {
	const submit = `<iq type="set" id="t1" from="admin@example.test/pc" to="sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="abc" action="complete"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>+15557654321@sms.example.test</value></field><field var="text"><value>ping from ops</value></field></x></command></iq>`
	tests := []struct {
		err error
		out string
	}{
		0: {nil, `<iq type="result" id="t1" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="completed"><note type="info">Queued a test message to +15557654321; a failure comes back to you as an error from +15557654321@sms.example.test.</note></command></iq>`},
		1: {stanza.NewError("auth", "registration-required", "admin@example.test has no SMS account on this gateway; ask the operator to add one"),
			`<iq type="result" id="t1" from="sms.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="send-test" sessionid="abc" status="completed"><note type="error">admin@example.test has no SMS account on this gateway; ask the operator to add one</note></command></iq>`},
		2: {fmt.Errorf("enqueue: %w", mapping.ErrUnavailable),
			`<iq type="error" id="t1" from="sms.example.test" to="admin@example.test/pc"><error type="wait"><resource-constraint ` + errNS + `></resource-constraint><text ` + errNS + `>the gateway cannot store messages right now; try again later</text></error></iq>`},
	}
	for i, tt := range tests {
		f := smsCore(t)
		f.sendErr = tt.err
		if got := serve(t, newCommands(f), submit); got != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
		}
		if want := []string{`SendTest admin@example.test/pc +15557654321 "ping from ops"`}; !reflect.DeepEqual(f.calls, want) {
			t.Errorf("%d: core called %q, want %q", i, f.calls, want)
		}
	}
}

// TestCommandsLinked runs the linking commands of a Linker transport; the
// core's link methods are fakes, so this checks what the commands ask of
// them and show.
func TestCommandsLinked(t *testing.T) {
	f := linkedCore(t)
	m := newCommands(f)
	tests := []struct {
		in, out string
		calls   []string
	}{
		0: { // a user's links are the core's text
			`<iq type="set" id="l1" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			`<iq type="result" id="l1" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="links" status="completed"><note type="info">links of alice@example.test</note></command></iq>`, nil},
		1: { // link gives a code
			`<iq type="set" id="l2" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="link"/></iq>`,
			`<iq type="result" id="l2" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="link" status="completed"><note type="info">Send /link CODE to the bot.</note></command></iq>`,
			[]string{"NewLinkCode bob@example.test"}},
		2: { // bob's unlink form offers his chat
			`<iq type="set" id="u1" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" action="execute"/></iq>`,
			`<iq type="result" id="u1" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="S" status="executing"><actions execute="complete"><complete></complete></actions><x xmlns="jabber:x:data" type="form"><title>Unlink Telegram chats</title><field var="chats" type="list-multi" label="Chats to unlink"><required></required><option label="+15550003333@tg.example.test"><value>+15550003333</value></option></field></x></command></iq>`, nil},
		3: { // alice has only a config link: nothing to unlink
			`<iq type="set" id="u2" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink"/></iq>`,
			`<iq type="result" id="u2" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="unlink" status="completed"><note type="info">No chat that you linked is linked to you (links set in the config stay).</note></command></iq>`, nil},
		4: { // alice cannot unlink bob's chat
			`<iq type="set" id="u3" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="y"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550003333</value></field></x></command></iq>`,
			`<iq type="result" id="u3" from="tg.example.test" to="alice@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="y" status="completed"><note type="error">+15550003333 is not linked to you.</note></command></iq>`,
			[]string{"RemoveOwnLink +15550003333 alice@example.test"}},
		5: { // no chat chosen
			`<iq type="set" id="u4" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="z"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value> </value></field></x></command></iq>`,
			`<iq type="result" id="u4" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="z" status="completed"><note type="error">Choose at least one chat to unlink.</note></command></iq>`, nil},
		6: { // bob unlinks his chat; a bad one stops the rest
			`<iq type="set" id="u5" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="z"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550003333</value><value>nope</value></field></x></command></iq>`,
			`<iq type="result" id="u5" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="z" status="completed"><note type="error">Unlinked +15550003333. Stopped: nope: fake: &#34;nope&#34; is not an E.164 number</note></command></iq>`,
			[]string{"RemoveOwnLink +15550003333 bob@example.test"}},
		7: { // the admin's link form
			`<iq type="set" id="a1" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link"/></iq>`,
			`<iq type="result" id="a1" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="S" status="executing"><actions execute="complete"><complete></complete></actions><x xmlns="jabber:x:data" type="form"><title>Link a Telegram chat to a user</title><field var="user" type="jid-single" label="XMPP user (bare JID)"><required></required></field><field var="chat" type="text-single" label="Chat ID"><required></required></field></x></command></iq>`, nil},
		8: { // admin links a chat to bob, by its contact JID
			`<iq type="set" id="a2" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test/phone</value></field><field var="chat"><value>+15550004444@tg.example.test</value></field></x></command></iq>`,
			`<iq type="result" id="a2" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="info">Linked +15550004444@tg.example.test to bob@example.test.</note></command></iq>`,
			[]string{`AddLink +15550004444 bob@example.test`}},
		9: { // a linked chat cannot be taken
			`<iq type="set" id="a3" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test</value></field><field var="chat"><value>+15550002222</value></field></x></command></iq>`,
			`<iq type="result" id="a3" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">+15550002222 is linked already; remove that link first.</note></command></iq>`,
			[]string{`AddLink +15550002222 bob@example.test`}},
		10: { // a user outside access.allow is refused
			`<iq type="set" id="a4" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>mallory@evil.test</value></field><field var="chat"><value>+15550004444</value></field></x></command></iq>`,
			`<iq type="result" id="a4" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">mallory@evil.test may not use this gateway (access.allow).</note></command></iq>`, nil},
		11: { // a bad user is named
			`<iq type="set" id="a5" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>example.test</value></field><field var="chat"><value>+15550004444</value></field></x></command></iq>`,
			`<iq type="result" id="a5" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-link" sessionid="x" status="completed"><note type="error">&#34;example.test&#34; is not a bare JID (user@domain).</note></command></iq>`, nil},
		12: { // all links are the store's
			`<iq type="set" id="a6" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-links"/></iq>`,
			`<iq type="result" id="a6" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-links" status="completed"><note type="info">2 links:` + "\n" + `alice@example.test: +15550002222@tg.example.test (set in the config)` + "\n" + `bob@example.test: +15550003333@tg.example.test</note></command></iq>`, nil},
		13: { // admin removes bob's link
			`<iq type="set" id="a7" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-unlink" sessionid="w"><x xmlns="jabber:x:data" type="submit"><field var="chat"><value>+15550003333</value></field></x></command></iq>`,
			`<iq type="result" id="a7" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-unlink" sessionid="w" status="completed"><note type="info">Unlinked +15550003333 from bob@example.test.</note></command></iq>`,
			[]string{"RemoveLink +15550003333"}},
		14: { // the core's refusal is shown
			`<iq type="set" id="a8" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-unlink" sessionid="w"><x xmlns="jabber:x:data" type="submit"><field var="chat"><value>+15550002222</value></field></x></command></iq>`,
			`<iq type="result" id="a8" from="tg.example.test" to="admin@example.test/pc"><command ` + cmdNS + ` node="admin-unlink" sessionid="w" status="completed"><note type="error">+15550002222: set in the config</note></command></iq>`,
			[]string{"RemoveLink +15550002222"}},
	}
	for i, tt := range tests {
		f.calls = nil
		if got := serve(t, m, tt.in); got != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
		}
		if !reflect.DeepEqual(f.calls, tt.calls) {
			t.Errorf("%d: core called %q, want %q", i, f.calls, tt.calls)
		}
	}
}

// TestItems lists the commands a user may run, for disco#items on the
// commands node.
func TestItems(t *testing.T) {
	item := func(domain, node, name string) core.Item { return core.Item{JID: domain, Node: node, Name: name} }
	sms, tg := newCommands(smsCore(t)).(*Commands), newCommands(linkedCore(t)).(*Commands)
	tests := []struct {
		m    *Commands
		from string
		want []core.Item
	}{
		0: {sms, "alice@example.test/pc", []core.Item{item("sms.example.test", "links", "My links")}},
		1: {sms, "admin@example.test/pc", []core.Item{
			item("sms.example.test", "links", "My links"),
			item("sms.example.test", "admin-links", "All links (admin)"),
			item("sms.example.test", "stats", "Queue and error statistics (admin)"),
			item("sms.example.test", "send-test", "Send a test message (admin)"),
		}},
		2: {sms, "mallory@evil.test/x", nil},
		3: {tg, "alice@example.test/pc", []core.Item{
			item("tg.example.test", "links", "My links"),
			item("tg.example.test", "link", "Link a chat"),
			item("tg.example.test", "unlink", "Unlink chats"),
		}},
		4: {tg, "admin@example.test", []core.Item{
			item("tg.example.test", "links", "My links"),
			item("tg.example.test", "link", "Link a chat"),
			item("tg.example.test", "unlink", "Unlink chats"),
			item("tg.example.test", "admin-links", "All links (admin)"),
			item("tg.example.test", "admin-link", "Link a chat to a user (admin)"),
			item("tg.example.test", "admin-unlink", "Remove a link (admin)"),
			item("tg.example.test", "stats", "Queue and error statistics (admin)"),
			item("tg.example.test", "send-test", "Send a test message (admin)"),
		}},
		// Anyone may unlink their own chats: a user taken out of
		// access.allow has no other way to.
		5: {tg, "mallory@evil.test/x", []core.Item{item("tg.example.test", "unlink", "Unlink chats")}},
	}
	for i, tt := range tests {
		if got := tt.m.Items(jid.MustParse(tt.from)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%d: items %+v, want %+v", i, got, tt.want)
		}
	}
	if n := sms.Node(); n != "http://jabber.org/protocol/commands" {
		t.Errorf("node %q", n)
	}
}

// TestRoutes: one route, on the gateway JID, which declares the feature.
func TestRoutes(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), newCommands(smsCore(t)).Routes()...)
	if got := r.Features(router.Gateway); !reflect.DeepEqual(got, []string{"http://jabber.org/protocol/commands"}) {
		t.Errorf("gateway features %q", got)
	}
	if got := r.Features(router.Contact | router.Room | router.Occupant); got != nil {
		t.Errorf("contact features %q", got)
	}
	// A command to a contact is not the module's.
	if out := serve(t, newCommands(smsCore(t)), `<iq type="set" id="x1" from="alice@example.test/pc" to="+15551234567@sms.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`); !strings.Contains(out, "service-unavailable") {
		t.Errorf("to a contact: %s", out)
	}
}
