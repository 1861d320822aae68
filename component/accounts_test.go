package component

import (
	"context"
	"regexp"
	"testing"
	"time"

	"xmppgw/transports"
)

// TestAccountSink: what a transport users sign in to tells the core
// becomes these exact stanzas for the account's user (here alice and
// carol share the account).
func TestAccountSink(t *testing.T) {
	ctx := context.Background()
	seen := time.Date(2026, 12, 4, 3, 12, 0, 0, time.UTC)
	tests := []struct {
		name string
		call func(g *Gateway) error
		want string
	}{
		{"online", func(g *Gateway) error { return g.Presence(ctx, "+15550001111", "+15557654321", true, time.Time{}) },
			`<presence from="+15557654321@sms.example.test" to="alice@example.test"></presence>` +
				`<presence from="+15557654321@sms.example.test" to="carol@example.test"></presence>`},
		{"offline", func(g *Gateway) error { return g.Presence(ctx, "+15550001111", "+15557654321", false, seen) },
			`<presence from="+15557654321@sms.example.test" to="alice@example.test"><show>xa</show><status>Last seen 2026-12-04 03:12 UTC</status></presence>` +
				`<presence from="+15557654321@sms.example.test" to="carol@example.test"><show>xa</show><status>Last seen 2026-12-04 03:12 UTC</status></presence>`},
		{"typing", func(g *Gateway) error { return g.Typing(ctx, "+15550001111", "+15557654321") },
			`<message type="chat" from="+15557654321@sms.example.test" to="alice@example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/><no-store xmlns="urn:xmpp:hints"/></message>` +
				`<message type="chat" from="+15557654321@sms.example.test" to="carol@example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/><no-store xmlns="urn:xmpp:hints"/></message>`},
		{"nobody's account", func(g *Gateway) error { return g.Typing(ctx, "+15559999999", "+15557654321") }, ``},
		{"notice", func(g *Gateway) error { return g.Notify(ctx, "alice@example.test", "Telegram ended <your> session") },
			`<message type="chat" id="ID" from="sms.example.test" to="alice@example.test"><body>Telegram ended &lt;your&gt; session</body></message>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, store := testGateway(t)
			if err := tt.call(g); err != nil {
				t.Fatal(err)
			}
			if got := noticeIDs.ReplaceAllString(queued(t, store), `id="ID"`); got != tt.want {
				t.Errorf("queued\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	g, _, _ := testGateway(t)
	if err := g.Contacts(ctx, "+15559999999", []transports.Contact{{Addr: "+15557654321"}}); err != transports.ErrNoRecipient {
		t.Errorf("contacts of nobody's account: %v", err)
	}
}

var noticeIDs = regexp.MustCompile(`id="notice-[0-9a-f]+"`)
