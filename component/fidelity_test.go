package component

import (
	"strings"
	"xmppgw/component/router"

	"mellium.im/xmpp/jid"

	"encoding/xml"
	"reflect"
	"testing"
)

func TestMessageParts(t *testing.T) {
	tests := []struct {
		name, in string
		want     parts
	}{
		{"plain", `<message><body>hi</body></message>`, parts{body: "hi"}},
		{"a reply with its fallback quote",
			`<message><body>&gt; is the db down?
yes</body><reply xmlns="urn:xmpp:reply:0" id="m1"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="18"/></fallback></message>`,
			parts{body: "yes", replyTo: "m1", quote: "is the db down?"}},
		{"a long quote is shortened, counted in code points",
			`<message><body>&gt; ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé
ok</body><reply xmlns="urn:xmpp:reply:0" id="m2"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="50"/></fallback></message>`,
			parts{body: "ok", replyTo: "m2", quote: "ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé…"}},
		{"a fallback range out of the body is ignored",
			`<message><body>yes</body><reply xmlns="urn:xmpp:reply:0" id="m3"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="99"/></fallback></message>`,
			parts{body: "yes", replyTo: "m3"}},
		{"a reply without fallback",
			`<message><body>yes</body><reply xmlns="urn:xmpp:reply:0" id="m4"/></message>`,
			parts{body: "yes", replyTo: "m4"}},
		{"an attachment whose body is its URL",
			`<message><body>https://up.example.com/a.jpg</body><x xmlns="jabber:x:oob"><url>https://up.example.com/a.jpg</url></x></message>`,
			parts{media: []string{"https://up.example.com/a.jpg"}}},
		{"an attachment with a caption",
			`<message><body>the graph</body><x xmlns="jabber:x:oob"><url>https://up.example.com/a.jpg</url></x></message>`,
			parts{body: "the graph", media: []string{"https://up.example.com/a.jpg"}}},
		{"reactions: the whole set, blanks dropped",
			`<message><body>👍</body><reactions xmlns="urn:xmpp:reactions:0" id="m6"><reaction>👍</reaction><reaction> </reaction><reaction>🎉</reaction></reactions></message>`,
			parts{reactTo: "m6", reacts: []string{"👍", "🎉"}}},
		{"reactions removed",
			`<message><reactions xmlns="urn:xmpp:reactions:0" id="m7"/></message>`,
			parts{reactTo: "m7"}},
		{"a retraction in XEP-0424's older form (slixmpp 1.8)",
			`<message><body>This person attempted to retract a previous message</body><apply-to xmlns="urn:xmpp:fasten:0" id="m8"><retract xmlns="urn:xmpp:message-retract:0"/></apply-to><fallback xmlns="urn:xmpp:fallback:0"/></message>`,
			parts{retracts: "m8"}},
		{"a reply quote marked in XEP-0428's older namespace",
			`<message><body>&gt; ping?
pong</body><reply xmlns="urn:xmpp:reply:0" id="m9"/><fallback xmlns="urn:xmpp:feature-fallback:0" for="urn:xmpp:reply:0"><body start="0" end="8"/></fallback></message>`,
			parts{body: "pong", replyTo: "m9", quote: "ping?"}},
		{"a retraction: its body is a fallback",
			`<message><body>retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="m5"/></message>`,
			parts{retracts: "m5"}},
	}
	g, _, _ := testGateway(t)
	for _, tt := range tests {
		tokens, err := readWholeStanza(xml.NewDecoder(strings.NewReader(tt.in)))
		if err != nil {
			t.Fatal(err)
		}
		in, err := g.readInStanza(router.NewStanza(tokens, jid.JID{}, jid.JID{}, router.Contact))
		if err != nil {
			t.Fatal(err)
		}
		if got := messageParts(in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}
