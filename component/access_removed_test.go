package component

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/internal/logbuf"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// The tests of a user the operator took out of access.allow (bob here,
// once barred is set): they receive nothing, their link codes no longer
// work, and they may still remove their own data, and nothing else.

// barredGateway is a gateway for tr on tg.example.test whose users are
// the JIDs of example.test, but bob@example.test once barred is set.
func barredGateway(t *testing.T, tr transports.Transport, barred *atomic.Bool, logs *logbuf.Buffer) (*Gateway, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{ReplaceAttr: dropTime})),
		Allowed: func(b string) bool {
			return strings.HasSuffix(b, "@example.test") && !(b == "bob@example.test" && barred.Load())
		},
	})
	return g, store
}

var linkCodeRE = regexp.MustCompile(`Send /link ([A-Z0-9]{8}) to the bot`)

// linkCodeOf gets a link code for user, with the chat command "link".
func linkCodeOf(t *testing.T, g *Gateway, user string) string {
	t.Helper()
	out := handle(t, g, `<message type="chat" id="c1" from="`+user+`/pc" to="tg.example.test"><body>link</body></message>`)
	m := linkCodeRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no code: %s", out)
	}
	return m[1]
}

// A chat bob linked with a code: once bob is barred, its messages reach
// nobody (acknowledged, logged with the reason), a code bob asked for
// before is refused as an unknown one, and bob may still unlink his chats
// (the command and unregistering) but run nothing else.
func TestBarredUserOfLinkedChats(t *testing.T) {
	ctx := context.Background()
	var barred atomic.Bool
	var logs logbuf.Buffer
	g, store := barredGateway(t, &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}, &barred, &logs)
	if _, err := g.Redeem(ctx, "+15550003333", "Team chat", linkCodeOf(t, g, "bob@example.test")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Redeem(ctx, "+15550004444", "Other chat", linkCodeOf(t, g, "bob@example.test")); err != nil {
		t.Fatal(err)
	}
	code := linkCodeOf(t, g, "bob@example.test")
	queuedFor(t, store, "tg") // the links' notices

	barred.Store(true)
	if err := g.Deliver(ctx, transports.Inbound{From: "+15550003333", ID: "5:1", Body: "the new door code is 4711"}); !errors.Is(err, transports.ErrNoRecipient) {
		t.Errorf("Deliver to a barred user: %v, want ErrNoRecipient", err)
	}
	const line = `level=WARN msg="inbound message reaches nobody: its user is not in access.allow; acknowledged and dropped" transport=tg account="" remote=+15550003333 provider_id=5:1 user=bob@example.test`
	if !strings.Contains(logs.String(), line) {
		t.Errorf("log:\n%s\nwant the line\n%s", logs.String(), line)
	}
	var le *transports.LinkError
	if _, err := g.Redeem(ctx, "+15550005555", "New chat", code); !errors.As(err, &le) || le.Msg != mapping.ErrBadCode.Error() {
		t.Errorf("a barred user's code: %v, want %q", err, mapping.ErrBadCode)
	}
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 100); len(q) != 0 {
		t.Errorf("queued for the barred user: %s", q[0].Stanza)
	}

	steps := []struct{ name, in, out string }{
		{"bob's commands: Unlink chats alone",
			`<iq type="get" id="i1" from="bob@example.test/pc" to="tg.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
			`<iq type="result" id="i1" from="tg.example.test" to="bob@example.test/pc"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"><item jid="tg.example.test" node="unlink" name="Unlink chats"></item></query></iq>`},
		{"My links is refused",
			`<iq type="set" id="i2" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="links"/></iq>`,
			`<iq type="error" id="i2" from="tg.example.test" to="bob@example.test/pc"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>bob@example.test may not run links</text></error></iq>`},
		{"so is the registration form",
			`<iq type="get" id="i3" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`,
			`<iq type="error" id="i3" from="tg.example.test" to="bob@example.test/pc"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>bob@example.test may not use this gateway</text></error></iq>`},
		{"Unlink chats unlinks one",
			`<iq type="set" id="i4" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="s"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550003333</value></field></x></command></iq>`,
			`<iq type="result" id="i4" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="unlink" sessionid="s" status="completed"><note type="info">Unlinked +15550003333.</note></command></iq>`},
		{"unregistering unlinks the rest",
			`<iq type="set" id="i5" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
			`<iq type="result" id="i5" from="tg.example.test" to="bob@example.test/pc"></iq>`},
	}
	for _, s := range steps {
		if got := handle(t, g, s.in); got != s.out {
			t.Errorf("%s: wrote\n%s\nwant\n%s", s.name, got, s.out)
		}
	}
	if links, err := store.Links().LinksOf(ctx, "tg", "bob@example.test"); err != nil || len(links) != 0 {
		t.Errorf("bob's links left: %+v, %v", links, err)
	}
}

// signInFake is a transport users sign in to, whose Logout is recorded.
type signInFake struct {
	transporttest.Transport
	loggedOut []string
}

func (f *signInFake) BeginLogin(context.Context, string) transports.Prompt {
	return transports.Prompt{Field: "phone"}
}
func (f *signInFake) LoginAnswer(context.Context, string, string, string) (*transports.Prompt, string, error) {
	return nil, "ok", nil
}
func (f *signInFake) Logout(_ context.Context, user string) error {
	f.loggedOut = append(f.loggedOut, user)
	return nil
}

// On a transport users sign in to, a barred user signed in (a session the
// transport runs all the same) is sent nothing of the account's: no
// message, contact, presence or typing; and may log out, by command or by
// unregistering, but not log in.
func TestBarredSignedInUser(t *testing.T) {
	ctx := context.Background()
	var barred atomic.Bool
	barred.Store(true)
	var logs logbuf.Buffer
	tr := &signInFake{Transport: transporttest.Transport{TransportName: "tg", Accts: map[string]transports.Addr{"bob@example.test": "+15550000007"}}}
	g, store := barredGateway(t, tr, &barred, &logs)
	if err := g.Deliver(ctx, transports.Inbound{Account: "+15550000007", From: "+15550004444", ID: "m1", Body: "hi bob"}); !errors.Is(err, transports.ErrNoRecipient) {
		t.Errorf("Deliver: %v, want ErrNoRecipient", err)
	}
	if !strings.Contains(logs.String(), `msg="inbound message reaches nobody: its user is not in access.allow; acknowledged and dropped" transport=tg account=+15550000007 remote=+15550004444 provider_id=m1 user=bob@example.test`) {
		t.Errorf("log:\n%s", logs.String())
	}
	if err := g.Contacts(ctx, "+15550000007", []transports.Contact{{Addr: "+15550004444", Name: "Dana"}}); !errors.Is(err, transports.ErrNoRecipient) {
		t.Errorf("Contacts: %v, want ErrNoRecipient", err)
	}
	if err := g.Presence(ctx, "+15550000007", "+15550004444", false, time.Unix(1700000000, 0)); err != nil {
		t.Error(err)
	}
	if err := g.Typing(ctx, "+15550000007", "+15550004444"); err != nil {
		t.Error(err)
	}
	if q, _ := store.ToXMPP().Pending(ctx, "tg", 100); len(q) != 0 {
		t.Errorf("queued for the barred user: %s", q[0].Stanza)
	}
	steps := []struct{ name, in, out string }{
		{"bob's commands: Log out alone",
			`<iq type="get" id="i1" from="bob@example.test/pc" to="tg.example.test"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`,
			`<iq type="result" id="i1" from="tg.example.test" to="bob@example.test/pc"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"><item jid="tg.example.test" node="logout" name="Log out of Telegram"></item></query></iq>`},
		{"Log in is refused",
			`<iq type="set" id="i2" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login" action="execute"/></iq>`,
			`<iq type="error" id="i2" from="tg.example.test" to="bob@example.test/pc"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>bob@example.test may not run login</text></error></iq>`},
		{"Log out logs out",
			`<iq type="set" id="i3" from="bob@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="logout" action="execute"/></iq>`,
			`<iq type="result" id="i3" from="tg.example.test" to="bob@example.test/pc"><command ` + cmdNS + ` node="logout" status="completed"><note type="info">You are logged out of Telegram; your session is deleted.</note></command></iq>`},
		{"so does unregistering",
			`<iq type="set" id="i4" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
			`<iq type="result" id="i4" from="tg.example.test" to="bob@example.test/pc"></iq>`},
	}
	for _, s := range steps {
		if got := handle(t, g, s.in); got != s.out {
			t.Errorf("%s: wrote\n%s\nwant\n%s", s.name, got, s.out)
		}
	}
	if got := strings.Join(tr.loggedOut, " "); got != "bob@example.test bob@example.test" {
		t.Errorf("logged out: %q", got)
	}
}

// A change of the network's reachability is announced to the users with
// links who are allowed, not to bob once barred: it would tell him he
// still has links, and he receives nothing.
func TestBarredUserNotAnnounced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var barred atomic.Bool
	var logs logbuf.Buffer
	g, store := barredGateway(t, &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}, &barred, &logs)
	for remote, user := range map[transports.Addr]string{"+15550003333": "bob@example.test", "+15550004444": "alice@example.test"} {
		if _, err := g.Redeem(ctx, remote, "Team chat", linkCodeOf(t, g, user)); err != nil {
			t.Fatal(err)
		}
	}
	queuedFor(t, store, "tg") // the links' notices, taken
	barred.Store(true)
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); g.announceLoop(loopCtx) }()
	g.Reachable(false, "Telegram is down")
	var got string
	eventually(t, "alice told", func() bool {
		q, err := store.ToXMPP().Pending(ctx, "tg", 100)
		if err != nil {
			t.Fatal(err)
		}
		got = ""
		for _, s := range q {
			got += string(s.Stanza)
		}
		return strings.Contains(got, `to="alice@example.test"`)
	})
	stop()
	<-done
	if want := `<presence type="unavailable" from="tg.example.test" to="alice@example.test"><status>Telegram is down</status></presence>`; got != want {
		t.Errorf("announced\n%s\nwant\n%s", got, want)
	}
}
