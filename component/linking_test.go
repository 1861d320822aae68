package component

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// linkedGateway is a gateway for tg.example.test, whose contacts are linked
// one by one: +15550002222 is alice's by config.
func linkedGateway(t testing.TB) (*Gateway, *transporttest.Linked, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"},
		Links: map[transports.Addr]string{"+15550002222": "alice@example.test"}}
	g := New(Options{
		Transport:  tr,
		Identity:   transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:      store,
		Conn:       &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:    func(b string) bool { return strings.HasSuffix(b, "@example.test") },
		UserDomain: func(d string) bool { return d == "example.test" },
	})
	if err := store.Links().SyncStaticLinks(context.Background(), "tg", map[string]string{"+15550002222": "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := g.loadMarkKey(context.Background()); err != nil { // as Run does
		t.Fatal(err)
	}
	return g, tr, store
}

func queuedFor(t *testing.T, store *mapping.Store, transport string) string {
	t.Helper()
	q, err := store.ToXMPP().Pending(context.Background(), transport, 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range q {
		b.Write(s.Stanza)
		b.WriteString("\n")
	}
	store.ToXMPP().Written(context.Background(), transport, q[len(q)-1].ID)
	return b.String()
}

var linkedHandleTests = []struct{ in, out string }{
	0: { // a chat linked to someone else
		in:  `<message type="chat" id="l0" from="bob@example.test/pc" to="+15550002222@tg.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="l0" from="+15550002222@tg.example.test" to="bob@example.test/pc"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>+15550002222 is not a Telegram chat linked to bob@example.test; send &#34;link&#34; to tg.example.test to link one</text></error></message>`,
	},
	1: { // subscribing to a chat that is not yours is refused
		in:  `<presence type="subscribe" id="p1" from="bob@example.test/pc" to="+15550002222@tg.example.test"/>`,
		out: `<presence type="unsubscribed" id="p1" from="+15550002222@tg.example.test" to="bob@example.test"></presence>`,
	},
	2: { // to your own: approved, and shown available
		in:  `<presence type="subscribe" id="p2" from="alice@example.test/pc" to="+15550002222@tg.example.test"/>`,
		out: `<presence type="subscribed" id="p2" from="+15550002222@tg.example.test" to="alice@example.test"></presence><presence from="+15550002222@tg.example.test" to="alice@example.test"></presence>`,
	},
	3: { // the user approved the contact's request
		in:  `<presence type="subscribed" from="alice@example.test" to="+15550002222@tg.example.test"/>`,
		out: `<presence from="+15550002222@tg.example.test" to="alice@example.test"></presence>`,
	},
	4: { // anything but "link" or "links" to the gateway gets the commands
		in:  `<message type="chat" id="c4" from="alice@example.test/pc" to="tg.example.test"><body>help</body></message>`,
		out: `<message type="chat" from="tg.example.test" to="alice@example.test/pc"><body>Commands: &#34;link&#34; gives you a one-time code to link a Telegram chat; &#34;links&#34; lists your linked chats. Unregister from tg.example.test to unlink them all.</body></message>`,
	},
	5: {
		in:  `<message type="chat" id="c5" from="alice@example.test/pc" to="tg.example.test"><body>links</body></message>`,
		out: `<message type="chat" from="tg.example.test" to="alice@example.test/pc"><body>Your linked Telegram chats:` + "\n" + `+15550002222@tg.example.test (set in the config)</body></message>`,
	},
	6: { // unregistering leaves config links alone
		in:  `<iq type="set" id="r6" from="alice@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
		out: `<iq type="result" id="r6" from="tg.example.test" to="alice@example.test/pc"></iq>`,
	},
	7: {
		in:  `<iq type="get" id="r7" from="mallory@evil.test/x" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`,
		out: `<iq type="error" id="r7" from="tg.example.test" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></iq>`,
	},
	8: { // the gateway JID shows the network's reachability
		in:  `<presence type="probe" from="alice@example.test/pc" to="tg.example.test"/>`,
		out: `<presence from="tg.example.test" to="alice@example.test/pc"></presence>`,
	},
}

func TestHandleLinked(t *testing.T) {
	for i, tt := range linkedHandleTests {
		g, _, _ := linkedGateway(t)
		if got := handle(t, g, tt.in); got != tt.out {
			t.Errorf("%d: got\n%s\nwant\n%s", i, got, tt.out)
		}
	}
}

// "link" and registration hand out codes; a code links a chat; the contact
// asks to subscribe with its name; unlinking says goodbye.
func TestLinkFlow(t *testing.T) {
	ctx := context.Background()
	g, tr, store := linkedGateway(t)
	codeRE := regexp.MustCompile(`Send /link ([A-Z0-9]{8}) to the bot\. The code works once, within 15 minutes\.`)

	out := handle(t, g, `<message type="chat" id="c1" from="bob@example.test/pc" to="tg.example.test"><body> Link </body></message>`)
	m := codeRE.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(out, `<message type="chat" from="tg.example.test" to="bob@example.test/pc"><body>`) {
		t.Fatalf("link answer: %s", out)
	}
	if _, err := g.Redeem(ctx, "+15550003333", "Ops", "WRONG"); !errors.As(err, new(*transports.LinkError)) {
		t.Errorf("bad code: %v", err)
	}
	user, err := g.Redeem(ctx, "+15550003333", "Ops", m[1])
	if err != nil || user != "bob@example.test" {
		t.Fatalf("Link = %q, %v", user, err)
	}
	want := `<presence type="subscribe" from="+15550003333@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">Ops</nick></presence>
<message type="chat" from="tg.example.test" to="bob@example.test"><body>Linked Telegram chat &#34;Ops&#34; (+15550003333): it is your contact +15550003333@tg.example.test.</body></message>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
	// Now bob may write there, and composing shows as typing.
	handle(t, g, `<message type="chat" id="b1" from="bob@example.test/pc" to="+15550003333@tg.example.test"><body>hi</body><replace xmlns="urn:xmpp:message-correct:0" id="b0"/></message>`)
	jobs, _ := store.Jobs().Pending(ctx, "tg", 0, 10)
	if len(jobs) != 1 || jobs[0].Account != "" || jobs[0].Replaces != "b0" {
		t.Errorf("jobs %+v", jobs)
	}
	handle(t, g, `<message type="chat" from="bob@example.test/pc" to="+15550003333@tg.example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	deadline := time.Now().Add(5 * time.Second)
	for len(tr.Typed()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if typed := tr.Typed(); len(typed) != 1 || typed[0] != "+15550003333" {
		t.Errorf("typing shown to %v", typed)
	}

	// Registration's form carries a code, and says bob is registered.
	out = handle(t, g, `<iq type="get" id="r1" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`)
	if !codeRE.MatchString(out) || !strings.HasSuffix(out, `</instructions><registered></registered></query></iq>`) {
		t.Errorf("form: %s", out)
	}
	if user, err := g.Unlink(ctx, "+15550003333"); err != nil || user != "bob@example.test" {
		t.Fatalf("Unlink = %q, %v", user, err)
	}
	want = `<presence type="unavailable" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<presence type="unsubscribed" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<presence type="unsubscribe" from="+15550003333@tg.example.test" to="bob@example.test"></presence>
<message type="chat" from="tg.example.test" to="bob@example.test"><body>Unlinked Telegram chat +15550003333.</body></message>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
}

// Inbound messages: a config link asks to subscribe with the first message;
// edits are corrections (of a message with a file, with the file's link);
// media are OOB URLs; an unlinked chat reaches nobody.
func TestDeliverLinked(t *testing.T) {
	ctx := context.Background()
	g, _, store := linkedGateway(t)
	ins := []transports.Inbound{
		{From: "+15550002222", ID: "7:1", Body: "hello", Name: "Alice's phone"},
		{From: "+15550002222", ID: "7:1:e5", Body: "hello!", Replaces: "7:1"},
		{From: "+15550002222", ID: "7:2", Body: "look", Media: []string{"https://gw/media/tg/s/f/photo.jpg"}},
		{From: "+15550002222", ID: "7:3", Media: []string{"https://gw/media/tg/s/g/voice.oga"}},
		// A caption added to a file sent without one: the correction
		// replaces the file's own stanza, and keeps its link.
		{From: "+15550002222", ID: "7:3:e6", Body: "listen", Replaces: "7:3", Media: []string{"https://gw/media/tg/s/g/voice.oga"}},
		// A caption edited: the text's stanza is corrected, the link kept.
		{From: "+15550002222", ID: "7:2:e7", Body: "look at this", Replaces: "7:2", Media: []string{"https://gw/media/tg/s/f/photo.jpg"}},
		// A caption removed: the link alone, as a file without a caption.
		{From: "+15550002222", ID: "7:2:e8", Replaces: "7:2", Media: []string{"https://gw/media/tg/s/f/photo.jpg"}},
	}
	for _, in := range ins {
		if err := g.Deliver(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	c := `from="+15550002222@tg.example.test" to="alice@example.test"`
	want := `<presence type="subscribe" ` + c + `><nick xmlns="http://jabber.org/protocol/nick">Alice&#39;s phone</nick></presence>
<message type="chat" id="7:1" ` + c + `><body>hello</body><origin-id xmlns="urn:xmpp:sid:0" id="7:1"></origin-id></message>
<message type="chat" id="7:1:e5" ` + c + `><body>hello!</body><replace xmlns="urn:xmpp:message-correct:0" id="7:1"></replace><origin-id xmlns="urn:xmpp:sid:0" id="7:1:e5"></origin-id></message>
<message type="chat" id="7:2" ` + c + `><body>look</body><origin-id xmlns="urn:xmpp:sid:0" id="7:2"></origin-id></message>
<message type="chat" id="7:2-m0" ` + c + `><body>https://gw/media/tg/s/f/photo.jpg</body><origin-id xmlns="urn:xmpp:sid:0" id="7:2-m0"></origin-id><x xmlns="jabber:x:oob"><url>https://gw/media/tg/s/f/photo.jpg</url></x></message>
<message type="chat" id="7:3" ` + c + `><body>https://gw/media/tg/s/g/voice.oga</body><origin-id xmlns="urn:xmpp:sid:0" id="7:3"></origin-id><x xmlns="jabber:x:oob"><url>https://gw/media/tg/s/g/voice.oga</url></x></message>
<message type="chat" id="7:3:e6" ` + c + `><body>listen&#xA;https://gw/media/tg/s/g/voice.oga</body><replace xmlns="urn:xmpp:message-correct:0" id="7:3"></replace><origin-id xmlns="urn:xmpp:sid:0" id="7:3:e6"></origin-id><x xmlns="jabber:x:oob"><url>https://gw/media/tg/s/g/voice.oga</url></x></message>
<message type="chat" id="7:2:e7" ` + c + `><body>look at this&#xA;https://gw/media/tg/s/f/photo.jpg</body><replace xmlns="urn:xmpp:message-correct:0" id="7:2"></replace><origin-id xmlns="urn:xmpp:sid:0" id="7:2:e7"></origin-id><x xmlns="jabber:x:oob"><url>https://gw/media/tg/s/f/photo.jpg</url></x></message>
<message type="chat" id="7:2:e8" ` + c + `><body>https://gw/media/tg/s/f/photo.jpg</body><replace xmlns="urn:xmpp:message-correct:0" id="7:2"></replace><origin-id xmlns="urn:xmpp:sid:0" id="7:2:e8"></origin-id><x xmlns="jabber:x:oob"><url>https://gw/media/tg/s/f/photo.jpg</url></x></message>
`
	if got := queuedFor(t, store, "tg"); got != want {
		t.Errorf("queued\n%s\nwant\n%s", got, want)
	}
	if err := g.Deliver(ctx, transports.Inbound{From: "+15559999999", ID: "9:1", Body: "x"}); !errors.Is(err, transports.ErrNoRecipient) {
		t.Errorf("unlinked chat: %v", err)
	}
}

// The registration form's code is the one to use: submitting the form, or
// fetching it again, gives the same code, and it links.
func TestRegisterFormKeepsItsCode(t *testing.T) {
	ctx := context.Background()
	g, _, _ := linkedGateway(t)
	codeRE := regexp.MustCompile(`Send /link ([A-Z0-9]{8}) to the bot\. The code works once, within 15 minutes\.`)
	code := func(out string) string {
		t.Helper()
		m := codeRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no code in %s", out)
		}
		return m[1]
	}
	shown := code(handle(t, g, `<iq type="get" id="r1" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`))
	again := code(handle(t, g, `<iq type="get" id="r2" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`))
	sent := code(handle(t, g, `<iq type="set" id="r3" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"><x xmlns="jabber:x:data" type="submit"/></query></iq>`))
	if again != shown || sent != shown {
		t.Errorf("codes: shown %s, then %s, then sent %s", shown, again, sent)
	}
	if user, err := g.Redeem(ctx, "+15550003333", "Ops", shown); err != nil || user != "bob@example.test" {
		t.Errorf("the form's code: %q, %v", user, err)
	}
}
