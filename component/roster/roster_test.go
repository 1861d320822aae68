package roster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"xmppgw/component/core"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// The module registers itself.
func TestRegistered(t *testing.T) {
	for _, m := range core.Modules() {
		if m.Name == "roster" {
			return
		}
	}
	t.Error("the roster module is not registered")
}

// The server's XEP-0356 advertisement is read per domain, answered with
// nothing, and forgotten when the session drops. A message that is not the
// server's, or not to the gateway JID, is no advertisement: it goes on to
// the core's message route, as any other message.
func TestPrivilegeAdvertisement(t *testing.T) {
	tests := []struct {
		name, in string
		domain   string
		want     bool
		out      string
	}{
		0:  {"v2 roster both", grantRoster, "example.test", true, ""},
		1:  {"v2 roster set", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="set"/></privilege></message>`, "example.test", true, ""},
		2:  {"v1 roster both", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:1"><perm access="roster" type="both"/></privilege></message>`, "example.test", true, ""},
		3:  {"roster get only", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="get"/><perm access="presence" type="roster"/></privilege></message>`, "example.test", false, ""},
		4:  {"no perm", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"/></message>`, "example.test", false, ""},
		5:  {"not from a server", `<message from="alice@example.test/pc" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", false, toCore},
		6:  {"from ourselves", `<message to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "tg.example.test", false, toCore},
		7:  {"in the component's namespace", `<message xmlns="jabber:component:accept" from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", true, ""},
		8:  {"grants of two elements add up", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:1"><perm access="message" type="outgoing"/></privilege><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", true, ""},
		9:  {"a user's message to a contact", `<message type="chat" from="alice@example.test/pc" to="+15550002222@tg.example.test"><body>hi</body><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", false, toCore},
		10: {"to a contact, not the gateway", `<message from="example.test" to="+15550002222@tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "example.test", false, toCore},
		11: {"from a domain no user is of: ignored", `<message from="other.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege></message>`, "other.test", false, ""},
	}
	for i, tt := range tests {
		r, _ := newRoster(t)
		if out := handle(t, r, tt.in); out != tt.out {
			t.Errorf("%d %s: wrote %q, want %q", i, tt.name, out, tt.out)
		}
		if got := r.privs.rosterSet("bob@" + tt.domain); got != tt.want {
			t.Errorf("%d %s: roster set %v, want %v", i, tt.name, got, tt.want)
		}
	}

	r, c := newRoster(t)
	c.barrier = func(context.Context) error { return nil }
	handle(t, r, grantRoster)
	r.SessionChanged(true)
	c.Wait()
	if !r.privs.rosterSet("bob@example.test") {
		t.Fatal("privilege lost when the session came up")
	}
	r.SessionChanged(false)
	if r.privs.rosterSet("bob@example.test") {
		t.Error("privilege kept after the session dropped")
	}
	// A later advertisement without roster access takes it back.
	handle(t, r, grantRoster)
	handle(t, r, `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"></privilege></message>`)
	if r.privs.rosterSet("bob@example.test") {
		t.Error("privilege kept after the server withdrew it")
	}
}

// Only the advertisements of the gateway's user domains count: another
// domain's (any server can send one) grants nothing, is not kept and does
// not end the wait for the user domain's server's.
func TestAdvertisementOfAnotherDomain(t *testing.T) {
	r, _ := newRoster(t)
	for i := range 100 {
		handle(t, r, strings.ReplaceAll(grantRoster, `from="example.test"`, fmt.Sprintf(`from="evil%d.test"`, i)))
	}
	select {
	case <-r.privs.advertised():
		t.Error("other domains' advertisements ended the wait for the user domain's")
	default:
	}
	if n := len(r.privs.roster) + len(r.privs.message); n != 0 {
		t.Errorf("%d grants kept for domains no user is of", n)
	}
	if r.privs.rosterSet("bob@evil1.test") || r.privs.messageAs("bob@evil1.test") {
		t.Error("another domain's advertisement granted something")
	}
	handle(t, r, grantRoster)
	select {
	case <-r.privs.advertised():
	default:
		t.Error("the user domain's advertisement did not end the wait")
	}
	if !r.privs.rosterSet("alice@example.test") {
		t.Error("the user domain's grant is not kept")
	}
}

// What makes a chat a user's contact, and what takes it off: roster pushes
// where the user's server grants the privilege, else subscriptions.
func TestContacts(t *testing.T) {
	const contact = "+15550003333@tg.example.test"
	tests := []struct {
		grant, user, nick string
		add, drop         string
	}{
		0: {grantRoster, "bob@example.test", "Ops & co",
			`<iq type="set" id="roster.add.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" name="Ops &amp; co" subscription="both"><group>Telegram</group></item></query></iq>` +
				`<presence from="+15550003333@tg.example.test" to="bob@example.test"></presence>`,
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<iq type="set" id="roster.remove.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" subscription="remove"></item></query></iq>`},
		1: {grantRoster, "bob@example.test", "",
			`<iq type="set" id="roster.add.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" subscription="both"><group>Telegram</group></item></query></iq>` +
				`<presence from="+15550003333@tg.example.test" to="bob@example.test"></presence>`,
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<iq type="set" id="roster.remove.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" subscription="remove"></item></query></iq>`},
		2: {"", "bob@example.test", "Ops",
			`<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>`,
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>` +
				`<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>`},
		3: { // the privilege is per user domain
			grantRoster, "bob@other.test", "",
			`<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@other.test"></presence>`,
			`<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@other.test"></presence>` +
				`<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@other.test"></presence>` +
				`<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@other.test"></presence>`},
	}
	for i, tt := range tests {
		r, _ := newRoster(t)
		if tt.grant != "" {
			handle(t, r, tt.grant)
		}
		if got := rosterID(string(join(render(r.AddContact(contact, tt.user, tt.nick))))); got != tt.add {
			t.Errorf("%d: add\n%s\nwant\n%s", i, got, tt.add)
		}
		if got := rosterID(string(join(render(r.DropContact(contact, tt.user))))); got != tt.drop {
			t.Errorf("%d: drop\n%s\nwant\n%s", i, got, tt.drop)
		}
	}
}

// The address book's name, when it has one, names the contact instead of
// the transport's.
func TestContactsNamedByBook(t *testing.T) {
	const contact = "+15550003333@tg.example.test"
	for i, tt := range []struct{ grant, add string }{
		{grantRoster, `<iq type="set" id="roster.add.KzE1NTUwMDAzMzMzQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="bob@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550003333@tg.example.test" name="Dana &lt;on call&gt;" subscription="both"><group>Telegram</group></item></query></iq>` +
			`<presence from="+15550003333@tg.example.test" to="bob@example.test"></presence>`},
		{"", `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Dana &lt;on call&gt;</nick></presence>`},
	} {
		r, c := newRoster(t)
		c.Names = map[string]string{contact: "Dana <on call>"}
		if tt.grant != "" {
			handle(t, r, tt.grant)
		}
		if got := rosterID(string(join(render(r.AddContact(contact, "bob@example.test", "Telegram's name"))))); got != tt.add {
			t.Errorf("%d: add\n%s\nwant\n%s", i, got, tt.add)
		}
	}
}

func join(bs [][]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// The server's answers to roster pushes: a result is taken silently; an
// error is answered by the subscription presences, if the link still
// stands as it was pushed.
func TestRosterPushAnswers(t *testing.T) {
	ctx := context.Background()
	r, c := newRoster(t)
	store := c.Store()
	handle(t, r, grantRoster)
	const contact = "+15550003333@tg.example.test"
	code, err := store.Links().NewLinkCode(ctx, "tg", "bob@example.test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Links().RedeemLinkCode(ctx, "tg", code, "+15550003333", "Ops", func(user string) [][]byte {
		return render(r.AddContact(contact, user, "Ops"))
	}); err != nil {
		t.Fatal(err)
	}
	add := firstPushID(t, pending(t, store))

	if out := handle(t, r, `<iq type="result" id="`+add+`" from="bob@example.test" to="tg.example.test"/>`); out != "" {
		t.Errorf("answered a result: %s", out)
	}
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after a result: %d", len(q))
	}

	errIQ := func(id, cond string) string {
		return `<iq type="error" id="` + id + `" from="bob@example.test" to="tg.example.test"><error type="auth"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	}
	// Only the server answers from the bare JID: a client's forged answer does nothing.
	handle(t, r, strings.Replace(errIQ(add, "forbidden"), `from="bob@example.test"`, `from="bob@example.test/pc"`, 1))
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after a client's answer: %d", len(q))
	}
	if out := handle(t, r, errIQ(add, "forbidden")); out != "" {
		t.Errorf("answered an error: %s", out)
	}
	want := `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>
`
	if got := pending(t, store); got != want {
		t.Errorf("fallback queued\n%s\nwant\n%s", got, want)
	}
	if n := c.QueuedCalls(); n != 1 {
		t.Errorf("the core was told of %d queued fallbacks, want 1", n)
	}
	handle(t, r, errIQ(add, "forbidden")) // the same answer twice: once only
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("fallback queued twice: %d", len(q))
	}

	if _, err := store.Links().Unlink(ctx, "tg", "+15550003333", func(user string) [][]byte {
		return render(r.DropContact(contact, user))
	}); err != nil {
		t.Fatal(err)
	}
	remove := firstPushID(t, pending(t, store))
	// The condition is read whatever the namespace of the <error/> (the
	// component stream's elsewhere in this test).
	inStream := func(s string) string {
		return strings.Replace(s, `<iq `, `<iq xmlns="jabber:client" `, 1)
	}
	handle(t, r, inStream(errIQ(remove, "item-not-found"))) // the user had removed it already
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued after item-not-found: %d", len(q))
	}
	handle(t, r, inStream(errIQ(remove, "internal-server-error")))
	want = `<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
`
	if got := pending(t, store); got != want {
		t.Errorf("remove fallback queued\n%s\nwant\n%s", got, want)
	}
	// A stale add refused after the unlink changes nothing.
	handle(t, r, errIQ(add[:len(add)-1]+"x", "forbidden"))
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued for a stale push: %d", len(q))
	}
	// Other answers to the gateway JID are not the module's.
	handle(t, r, errIQ("barrier-1", "forbidden"))
	handle(t, r, `<iq type="result" id="roster.add.bad" from="bob@example.test" to="tg.example.test"/>`)
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 10); len(q) != 0 {
		t.Errorf("queued for an answer to something else: %d", len(q))
	}
}

// When the component connects, a link from the config that never asked is
// added to its user's roster: with the server's roster privilege, which it
// advertises right after the handshake, a roster push; without, a
// subscription request. Once: not at the next connection.
func TestConfigLinksAskedOnConnect(t *testing.T) {
	const sub = `<presence type="subscribe" from="+15550002222@tg.example.test" to="alice@example.test"></presence>` + "\n"
	const push = `<iq type="set" id="roster.add.KzE1NTUwMDAyMjIyQHRnLmV4YW1wbGUudGVzdA.N" from="tg.example.test" to="alice@example.test"><query xmlns="jabber:iq:roster"><item jid="+15550002222@tg.example.test" subscription="both"><group>Telegram</group></item></query></iq>` + "\n" +
		`<presence from="+15550002222@tg.example.test" to="alice@example.test"></presence>` + "\n"
	tests := []struct {
		name   string
		server string // what the server sends after the handshake, before answering the ping
		want   string
		after  string // what it sends after answering the ping
	}{
		0: {"roster privilege", grantRoster, push, ``},
		1: {"no roster privilege", `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"/></message>`, sub, ``},
		2: {"privilege for another domain", strings.ReplaceAll(grantRoster, `from="example.test"`, `from="other.test"`), sub, ``},
		3: {"no XEP-0356: asked after privilegeWait", ``, sub, ``},
		4: {"roster privilege after the ping's answer (ejabberd)", ``, push, grantRoster},
		5: {"another domain's advertisement first, the server's after the ping's answer", strings.ReplaceAll(grantRoster, `from="example.test"`, `from="evil.test"`), push, grantRoster},
	}
	for i, tt := range tests {
		r, c := newRoster(t)
		for run := 0; run < 2; run++ {
			want := tt.want
			if run == 1 {
				want = "" // asked already: not even a ping
			}
			pinged := false
			c.barrier = func(context.Context) error {
				pinged = true
				if tt.server != "" {
					handle(t, r, tt.server)
				}
				if tt.after != "" {
					c.Go(func(context.Context) { handle(t, r, tt.after) })
				}
				return nil
			}
			r.SessionChanged(false)
			r.SessionChanged(true)
			c.Wait()
			if pinged != (run == 0) {
				t.Errorf("%d %s, connection %d: pinged %v", i, tt.name, run+1, pinged)
			}
			if got := rosterID(pending(t, c.Store())); got != want {
				t.Errorf("%d %s, connection %d: queued\n%s\nwant\n%s", i, tt.name, run+1, got, want)
			}
		}
		l, _, err := c.Store().Links().LinkOf(context.Background(), "tg", "+15550002222")
		if err != nil || !l.Asked {
			t.Errorf("%d %s: the link is not marked asked (%v)", i, tt.name, err)
		}
	}
}

// named is a linked transport that looks up contacts' names.
type named struct {
	*transporttest.Linked
	name string
	err  error
}

func (n named) ContactName(context.Context, string, transports.Addr) (string, error) {
	return n.name, n.err
}

// A link from the config has no name: the transport's name for the contact
// comes with the request, and is kept; a failed lookup adds the contact
// without one.
func TestConfigLinkNamedByTransport(t *testing.T) {
	tests := []struct {
		name string
		tr   named
		want string
	}{
		0: {"named", named{name: "Dana Scully"}, `<presence type="subscribe" from="+15550002222@tg.example.test" to="alice@example.test"><nick xmlns="http://jabber.org/protocol/nick">Dana Scully</nick></presence>` + "\n"},
		1: {"lookup failed", named{err: errors.New("getChat: 502")}, `<presence type="subscribe" from="+15550002222@tg.example.test" to="alice@example.test"></presence>` + "\n"},
		2: {"markup in the name", named{name: `<b>Ops</b> & "Co"`}, `<presence type="subscribe" from="+15550002222@tg.example.test" to="alice@example.test"><nick xmlns="http://jabber.org/protocol/nick">&lt;b&gt;Ops&lt;/b&gt; &amp; &#34;Co&#34;</nick></presence>` + "\n"},
	}
	for i, tt := range tests {
		r, c := newRosterWith(t, func(l *transporttest.Linked) transports.Transport { tt.tr.Linked = l; return tt.tr })
		c.barrier = func(context.Context) error { return nil }
		r.SessionChanged(true)
		c.Wait()
		if got := pending(t, c.Store()); got != tt.want {
			t.Errorf("%d %s: queued\n%s\nwant\n%s", i, tt.name, got, tt.want)
		}
		l, _, err := c.Store().Links().LinkOf(context.Background(), "tg", "+15550002222")
		if err != nil || l.Name != tt.tr.name {
			t.Errorf("%d %s: link name %q (%v), want %q", i, tt.name, l.Name, err, tt.tr.name)
		}
	}
}
