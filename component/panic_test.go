package component

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"xmppgw/component/router"
)

// A stanza to a contact JID whose local part ends in an XEP-0106 escape
// after several characters, from anyone: the gateway reads its address on
// the read loop (mellium's jid.Unescape panicked on it, and the process
// exited). It is answered, and the stream goes on.
func TestEscapedLocalpartFromAnyone(t *testing.T) {
	g, _ := roomGateway(t)
	out := handle(t, g, `<message type="chat" id="x1" from="mallory@evil.example/r" to="abcdefgh\2f@tg.example.test"><body>hi</body></message>`)
	if !strings.Contains(out, `type="error"`) || !strings.Contains(out, `id="x1"`) {
		t.Errorf("a stranger's message to an escaped contact was answered %q, want an error", out)
	}
	g2, _, _ := testGateway(t)
	out = handle(t, g2, `<message type="chat" id="x2" from="alice@example.test/pc" to="abcdefgh\2f@sms.example.test"><body>hi</body></message>`)
	if !strings.Contains(out, `type="error"`) || !strings.Contains(out, "jid-malformed") {
		t.Errorf("a message to an escaped address that is no number was answered %q, want jid-malformed", out)
	}
}

// A panic in a stanza's handling on the read loop does not end the stream
// (nor the process): the stanza is answered internal-server-error, and the
// next stanza is handled.
func TestPanicInHandlerAnswered(t *testing.T) {
	g, _, _ := testGateway(t)
	g.router.Add(router.Route{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: "urn:example:panic", Local: "boom"},
		Handler: router.HandlerFunc(func(context.Context, router.Writer, *router.Stanza) error { panic("boom") })})
	out := handle(t, g, `<iq type="get" id="p1" from="alice@example.test/pc" to="sms.example.test"><boom xmlns="urn:example:panic"/></iq>`)
	const want = `<iq type="error" id="p1" from="sms.example.test" to="alice@example.test/pc"><error type="cancel"><internal-server-error xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></internal-server-error></error></iq>`
	if out != want {
		t.Errorf("a panicking handler's stanza was answered\n%s\nwant\n%s", out, want)
	}
	if n := g.Stats.Panics.Load(); n != 1 {
		t.Errorf("panics counted: %d, want 1", n)
	}
	if out := handle(t, g, `<iq type="get" id="v1" from="alice@example.test/pc" to="sms.example.test"><query xmlns="jabber:iq:version"/></iq>`); !strings.Contains(out, `type="result"`) {
		t.Errorf("the next stanza was answered %q", out)
	}
}
