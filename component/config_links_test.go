package component

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// pending returns the stanzas queued for XMPP, one a line, and takes them
// off the queue.
func pending(t *testing.T, store *mapping.Store) string {
	t.Helper()
	q, err := store.ToXMPP().Pending(context.Background(), "tg", 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range q {
		b.Write(s.Stanza)
		b.WriteString("\n")
	}
	if len(q) > 0 {
		store.ToXMPP().Written(context.Background(), "tg", q[len(q)-1].ID)
	}
	return b.String()
}

// When the component connects, a link from the config that never asked is
// added to its user's roster: with the server's roster privilege, which it
// advertises right after the handshake, a roster push; without, a
// subscription request. Once: not at the next connection, nor with the
// chat's first message.
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
		g, _, store := linkedGateway(t)
		for run := 0; run < 2; run++ {
			want := tt.want
			if run == 1 {
				want = "" // asked already: not even a ping
			}
			connect(t, g, tt.server, tt.after, run == 0)
			if got := rosterID(pending(t, store)); got != want {
				t.Errorf("%d %s, connection %d: queued\n%s\nwant\n%s", i, tt.name, run+1, got, want)
			}
		}
		if err := g.Deliver(context.Background(), transports.Inbound{From: "+15550002222", ID: "7:1", Body: "hello", Name: "Alice's phone"}); err != nil {
			t.Fatal(err)
		}
		want := `<message type="chat" id="7:1" from="+15550002222@tg.example.test" to="alice@example.test"><body>hello</body><origin-id xmlns="urn:xmpp:sid:0" id="7:1"></origin-id></message>` + "\n"
		if got := pending(t, store); got != want {
			t.Errorf("%d %s: the first message queued\n%s\nwant\n%s", i, tt.name, got, want)
		}
	}
}

// connect brings a new session up, as the link does, whose server sends
// before, then, if ping, answers the gateway's ping to itself and sends
// after; it returns when the work the roster module started on connecting
// (package roster) is done.
func connect(t *testing.T, g *Gateway, before, after string, ping bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.o.Conn.OnChange(false) // the previous session dropped
	sess, server := pipeSession(t, ctx, g)
	g.o.Conn.Attach(sess)
	defer func() {
		g.o.Conn.Attach(nil)
	}()
	g.o.Conn.OnChange(true)

	if ping {
		_, id := readStanza(t, server)
		if _, err := io.WriteString(server, before+`<iq type="result" id="`+id+`" from="tg.example.test" to="tg.example.test"/>`+after); err != nil {
			t.Fatal(err)
		}
	}
	g.bg.Wait() // the goroutines started with Go
}
