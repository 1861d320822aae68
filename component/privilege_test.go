package component

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"xmppgw/transports"
)

const grantRoster = `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/><perm access="message" type="outgoing"/></privilege></message>`

// rosterIDs matches roster push ids; rosterID normalises their nonce and mark.
var rosterIDs = regexp.MustCompile(`id="(roster\.(?:add|remove)\.[A-Za-z0-9_-]+)\.[0-9a-f]{16}\.[0-9a-f]{24}"`)

func rosterID(s string) string { return rosterIDs.ReplaceAllString(s, `id="$1.N"`) }

// pushID returns the (first) roster push id in s.
func pushID(t *testing.T, s string) string {
	t.Helper()
	m := regexp.MustCompile(`id="(roster\.[^"]+)"`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no roster push in\n%s", s)
	}
	return m[1]
}

// The roster module (package roster, where its own tests are) is driven
// by the gateway: the server's advertisement and its answers to roster
// pushes are routed to it, whatever other route could take them, and
// answered with nothing; the link's session changes reach it.
func TestRosterModuleThroughGateway(t *testing.T) {
	ctx := context.Background()
	g, _, store := linkedGateway(t)
	const sub = `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>`
	if got := string(bytes.Join(g.links.AddContact("+15550003333@tg.example.test", "bob@example.test", ""), nil)); got != sub {
		t.Errorf("before the advertisement: %s", got)
	}
	for _, in := range []string{grantRoster, strings.Replace(grantRoster, `<message `, `<message type="chat" `, 1)} {
		if out := handle(t, g, in); out != "" {
			t.Errorf("answered %s", out)
		}
	}
	add := g.links.AddContact("+15550003333@tg.example.test", "bob@example.test", "")
	if len(add) != 2 || !strings.HasPrefix(string(add[0]), `<iq type="set" id="roster.add.`) {
		t.Fatalf("with the privilege: %s", bytes.Join(add, nil))
	}
	g.o.Conn.OnChange(true)
	if got := string(bytes.Join(g.links.AddContact("+15550003333@tg.example.test", "bob@example.test", ""), nil)); got == sub {
		t.Error("privilege lost when the link came up")
	}

	// A refused push is answered by the subscription request.
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(
		handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body>link</body></message>`))
	if _, err := g.Redeem(ctx, "+15550003333", "Ops", code[1]); err != nil {
		t.Fatal(err)
	}
	id := pushID(t, queuedFor(t, store, "tg"))
	if out := handle(t, g, `<iq type="result" id="`+id+`" from="bob@example.test" to="tg.example.test"/>`); out != "" {
		t.Errorf("answered a result: %s", out)
	}
	if out := handle(t, g, `<iq type="error" id="`+id+`" from="bob@example.test" to="tg.example.test"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`); out != "" {
		t.Errorf("answered an error: %s", out)
	}
	want := `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("fallback queued\n%s\nwant\n%s", got, want)
	}

	g.o.Conn.OnChange(false)
	if got := string(bytes.Join(g.links.AddContact("+15550003333@tg.example.test", "bob@example.test", ""), nil)); got != sub {
		t.Errorf("privilege kept after the link dropped: %s", got)
	}
}

// Without a module that implements core.Contacts, a contact asks to
// subscribe, and cancels both subscriptions when unlinked.
func TestContactsWithoutModule(t *testing.T) {
	g, _, _ := linkedGateway(t)
	handle(t, g, grantRoster)
	g.mods = nil
	c, u := "+15550003333@tg.example.test", "bob@example.test"
	tests := []struct{ got, want string }{
		0: {string(bytes.Join(g.links.AddContact(c, u, "Ops"), nil)),
			`<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>`},
		1: {string(bytes.Join(g.links.DropContact(c, u), nil)),
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>`},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got\n%s\nwant\n%s", i, tt.got, tt.want)
		}
	}
}

// With the roster privilege, a code link pushes the contact into the
// user's roster and shows it online; unlinking removes it.
func TestLinkWithPrivilege(t *testing.T) {
	ctx := context.Background()
	g, _, store := linkedGateway(t)
	handle(t, g, grantRoster)
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(
		handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body>link</body></message>`))
	if code == nil {
		t.Fatal("no code")
	}
	if _, err := g.Redeem(ctx, "+15550003333", "Ops & co", code[1]); err != nil {
		t.Fatal(err)
	}
	want := `<iq type="set" id="roster.add.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" name="Ops &amp; co" subscription="both"><group>Telegram</group></item></query></iq>
<presence from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<message type="chat" from="tg.example.test" to="bob@example.test"><body>Linked Telegram chat &#34;Ops &amp; co&#34; (+15550003333): it is your contact +15550003333@tg.example.test.</body></message>
`
	if got := rosterID(queuedFor(t, store, "tg")); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}

	if _, err := g.Unlink(ctx, "+15550003333"); err != nil {
		t.Fatal(err)
	}
	want = `<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<iq type="set" id="roster.remove.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" subscription="remove"></item></query></iq>
<message type="chat" from="tg.example.test" to="bob@example.test"><body>Unlinked Telegram chat +15550003333.</body></message>
`
	if got := rosterID(queuedFor(t, store, "tg")); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
}

// The privilege is per user domain: a user elsewhere is asked to subscribe.
func TestLinkPrivilegeOtherDomain(t *testing.T) {
	g, _, store := linkedGateway(t)
	handle(t, g, `<message from="other.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`)
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(
		handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body>link</body></message>`))
	if _, err := g.Redeem(context.Background(), "+15550003333", "Ops", code[1]); err != nil {
		t.Fatal(err)
	}
	if got := queuedFor(t, store, "tg"); !strings.HasPrefix(got, `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>`+"\n") {
		t.Errorf("queued\n%s", got)
	}
}

// An admin's link and a config link's first message push the contact too.
func TestAdminAndConfigLinkWithPrivilege(t *testing.T) {
	g, _, store := linkedGateway(t)
	g.o.Admin = func(b string) bool { return b == "admin@example.test" }
	handle(t, g, grantRoster)
	handle(t, g, `<iq type="set" id="a1" from="admin@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="x"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test</value></field><field var="chat"><value>+15550003333</value></field></x></command></iq>`)
	want := `<iq type="set" id="roster.add.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" subscription="both"><group>Telegram</group></item></query></iq>
<presence from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<message type="chat" from="tg.example.test" to="bob@example.test"><body>An administrator linked Telegram chat +15550003333 to you: it is your contact +15550003333@tg.example.test.</body></message>
`
	if got := rosterID(queuedFor(t, store, "tg")); got != want {
		t.Errorf("admin link queued\n%s\nwant\n%s", got, want)
	}

	if err := g.Deliver(context.Background(), transports.Inbound{From: "+15550002222", ID: "7:1", Body: "hello", Name: "Alice's phone"}); err != nil {
		t.Fatal(err)
	}
	c := `from="+15550002222@tg.example.test" to="alice@example.test"`
	want = `<iq type="set" id="roster.add.KzE1NTUwMDAyMjIyQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="alice@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550002222@tg.example.test" name="Alice&#39;s phone" subscription="both"><group>Telegram</group></item></query></iq>
<presence ` + c + `></presence>
<message type="chat" id="7:1" ` + c + `><body>hello</body><origin-id xmlns="urn:xmpp:sid:0" id="7:1"></origin-id></message>
`
	if got := rosterID(queuedFor(t, store, "tg")); got != want {
		t.Errorf("config link queued\n%s\nwant\n%s", got, want)
	}
}

// An XEP-0356 <privilege/> element in a user's message is no
// advertisement (only the server sends those, to the gateway JID): the
// message is handled as any other, relayed to a contact or answered as
// one to the gateway JID.
func TestPrivilegeElementInUserMessage(t *testing.T) {
	g, _, store := testGateway(t)
	const priv = `<privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege>`
	tests := []struct{ in, out string }{
		0: {`<message type="chat" id="pv1" from="alice@example.test/pc" to="+15551234567@sms.example.test"><body>hello</body>` + priv + `</message>`, ``},
		1: {`<message type="chat" id="pv2" from="alice@example.test/pc" to="sms.example.test"><body>hello</body>` + priv + `</message>`,
			`<message type="error" id="pv2" from="sms.example.test" to="alice@example.test/pc"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>write to NUMBER@sms.example.test to reach a contact; this is the gateway itself</text></error></message>`},
	}
	for i, tt := range tests {
		if out := handle(t, g, tt.in); out != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, out, tt.out)
		}
	}
	jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if err != nil || len(jobs) != 1 || jobs[0].StanzaID != "pv1" || jobs[0].Body != "hello" || jobs[0].Remote != "+15551234567" {
		t.Errorf("jobs %+v, %v; want pv1's", jobs, err)
	}
}
