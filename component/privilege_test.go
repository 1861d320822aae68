package component

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"xmppgw/transports"
)

const grantRoster = `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/><perm access="message" type="outgoing"/></privilege></message>`

// rosterIDs matches roster push ids; rosterID normalises their random end.
var rosterIDs = regexp.MustCompile(`id="(roster\.(?:add|remove)\.[A-Za-z0-9_-]+)\.[0-9a-f]{16}"`)

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

// The server's XEP-0356 advertisement is read per domain, answered with
// nothing, and forgotten when the link drops.
func TestPrivilegeAdvertisement(t *testing.T) {
	tests := []struct {
		name, in string
		domain   string
		want     bool
	}{
		{"v2 roster both", grantRoster, "example.test", true},
		{"v2 roster set", `<message from="other.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="set"/></privilege></message>`, "other.test", true},
		{"v1 roster both", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:1"><perm access="roster" type="both"/></privilege></message>`, "example.test", true},
		{"roster get only", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="get"/><perm access="presence" type="roster"/></privilege></message>`, "example.test", false},
		{"no perm", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"/></message>`, "example.test", false},
		{"not from a server", `<message from="alice@example.test/pc" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", false},
		{"from ourselves", `<message to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "tg.example.test", false},
	}
	for _, tt := range tests {
		g, _, _ := linkedGateway(t)
		if out := handle(t, g, tt.in); out != "" {
			t.Errorf("%s: answered %s", tt.name, out)
		}
		if got := g.privs.rosterSet("bob@" + tt.domain); got != tt.want {
			t.Errorf("%s: roster set %v, want %v", tt.name, got, tt.want)
		}
	}

	g, _, _ := linkedGateway(t)
	handle(t, g, grantRoster)
	g.o.Link.OnChange(true)
	if !g.privs.rosterSet("bob@example.test") {
		t.Fatal("privilege lost when the link came up")
	}
	g.o.Link.OnChange(false)
	if g.privs.rosterSet("bob@example.test") {
		t.Error("privilege kept after the link dropped")
	}
	// A later advertisement without roster access takes it back.
	handle(t, g, grantRoster)
	handle(t, g, `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"></privilege></message>`)
	if g.privs.rosterSet("bob@example.test") {
		t.Error("privilege kept after the server withdrew it")
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
	if _, err := g.Link(ctx, "+15550003333", "Ops & co", code[1]); err != nil {
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
	if _, err := g.Link(context.Background(), "+15550003333", "Ops", code[1]); err != nil {
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

// The server's answers to roster pushes: a result is taken silently; an
// error is answered by the subscription presences, if the link still
// stands as it was pushed.
func TestRosterPushAnswers(t *testing.T) {
	ctx := context.Background()
	g, _, store := linkedGateway(t)
	handle(t, g, grantRoster)
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(
		handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body>link</body></message>`))
	if _, err := g.Link(ctx, "+15550003333", "Ops", code[1]); err != nil {
		t.Fatal(err)
	}
	add := pushID(t, queuedFor(t, store, "tg"))

	if out := handle(t, g, `<iq type="result" id="`+add+`" from="bob@example.test" to="tg.example.test"/>`); out != "" {
		t.Errorf("answered a result: %s", out)
	}
	if q, _ := store.Outgoing(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after a result: %d", len(q))
	}

	errIQ := func(id, cond string) string {
		return `<iq type="error" id="` + id + `" from="bob@example.test" to="tg.example.test"><error type="auth"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	}
	// Only the server answers from the bare JID: a client's forged answer does nothing.
	handle(t, g, strings.Replace(errIQ(add, "forbidden"), `from="bob@example.test"`, `from="bob@example.test/pc"`, 1))
	if q, _ := store.Outgoing(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after a client's answer: %d", len(q))
	}
	if out := handle(t, g, errIQ(add, "forbidden")); out != "" {
		t.Errorf("answered an error: %s", out)
	}
	want := `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("fallback queued\n%s\nwant\n%s", got, want)
	}
	handle(t, g, errIQ(add, "forbidden")) // the same answer twice: once only
	if q, _ := store.Outgoing(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("fallback queued twice: %d", len(q))
	}

	if _, err := g.Unlink(ctx, "+15550003333"); err != nil {
		t.Fatal(err)
	}
	remove := pushID(t, queuedFor(t, store, "tg"))
	handle(t, g, errIQ(remove, "item-not-found")) // the user had removed it already
	if q, _ := store.Outgoing(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after item-not-found: %d", len(q))
	}
	handle(t, g, errIQ(remove, "internal-server-error"))
	want = `<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("remove fallback queued\n%s\nwant\n%s", got, want)
	}
	// A stale add refused after the unlink changes nothing.
	handle(t, g, errIQ(add[:len(add)-1]+"x", "forbidden"))
	if q, _ := store.Outgoing(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued for a stale push: %d", len(q))
	}
}
