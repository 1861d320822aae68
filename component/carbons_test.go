package component

import (
	"testing"

	"mellium.im/xmpp/jid"
)

func TestSentAs(t *testing.T) {
	got := string(sentAs("own-1:2-ab", "tg.example.test", "example.test", "alice@example.test", "7@tg.example.test", "<b>hi</b> & bye"))
	want := `<message id="own-1:2-ab" from="tg.example.test" to="example.test"><privilege xmlns="urn:xmpp:privilege:2"><forwarded xmlns="urn:xmpp:forward:0">` +
		`<message xmlns="jabber:client" type="chat" id="own-1:2-ab" from="alice@example.test" to="7@tg.example.test"><body>&lt;b&gt;hi&lt;/b&gt; &amp; bye</body><origin-id xmlns="urn:xmpp:sid:0" id="own-1:2-ab"></origin-id></message>` +
		`</forwarded></privilege></message>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestOwnEcho: only an id the gateway marked, from the bare JID the server
// sends it as, is taken for the echo of a message sent as the user.
func TestOwnEcho(t *testing.T) {
	g := &Gateway{}
	key := []byte("0123456789abcdef0123456789abcdef")
	if g.ownEcho(jid.MustParse("alice@example.test"), "own-x-00") {
		t.Error("an echo without a key")
	}
	g.markKey.Store(&key)
	id := g.ownID("1000001:5")
	other := &Gateway{}
	otherKey := []byte("another key, another gateway....")
	other.markKey.Store(&otherKey)
	for _, tt := range []struct {
		from, id string
		want     bool
	}{
		{"alice@example.test", id, true},
		{"alice@example.test/phone", id, false}, // from a client, not the server
		{"alice@example.test", id + "0", false},
		{"alice@example.test", "own-1000001:5-" + "000000000000000000000000", false},
		{"alice@example.test", other.ownID("1000001:5"), false},
		{"alice@example.test", "own-", false},
		{"alice@example.test", "m1", false},
	} {
		if got := g.ownEcho(jid.MustParse(tt.from), tt.id); got != tt.want {
			t.Errorf("ownEcho(%s, %q) = %v", tt.from, tt.id, got)
		}
	}
}
