package router

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/stanza"
)

// parse reads raw as a Stanza to target.
func parse(t *testing.T, raw string, target Target) *Stanza {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(raw))
	var toks []xml.Token
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, xml.CopyToken(tok))
	}
	start := toks[0].(xml.StartElement)
	var from, to jid.JID
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "from":
			from = jid.MustParse(a.Value)
		case "to":
			to = jid.MustParse(a.Value)
		}
	}
	return NewStanza(toks, from, to, target)
}

type buf struct{ strings.Builder }

func (b *buf) Encode(v any) { b.Write(stanza.Render(v)) }

func named(name string) Handler {
	return HandlerFunc(func(_ context.Context, w Writer, s *Stanza) error {
		w.Encode(stanza.Message{ID: name, From: s.To.String(), To: s.From.String()})
		return nil
	})
}

// The most specific route handles a stanza, or passes it on to the next;
// unrouted stanzas get RFC 6120's answers; a handler's error answers the
// stanza and nothing else.
func TestDispatch(t *testing.T) {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)),
		Route{Kind: Message, Handler: named("any-message")},
		Route{Kind: Message, Payload: xml.Name{Space: "urn:xmpp:message-retract:1", Local: "retract"}, Handler: named("retract")},
		Route{Kind: Message, Types: []string{"groupchat"}, Targets: Room, Handler: named("room")},
		Route{Kind: IQ, Types: []string{"get"}, Payload: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}, Handler: named("ping")},
		// Takes only what the server sends (from a bare domain); the rest goes on.
		Route{Kind: Message, Payload: xml.Name{Space: "urn:x:server"}, Priority: 1, Handler: HandlerFunc(func(ctx context.Context, w Writer, s *Stanza) error {
			if s.From.Localpart() != "" {
				return Pass
			}
			return named("server").HandleStanza(ctx, w, s)
		})},
		Route{Kind: IQ, Types: []string{"get"}, Payload: xml.Name{Space: "jabber:iq:version", Local: "query"}, Targets: Gateway, Handler: named("version")},
		Route{Kind: IQ, Types: []string{"set"}, Payload: xml.Name{Space: "urn:x:bad"}, Handler: HandlerFunc(func(_ context.Context, _ Writer, s *Stanza) error {
			var v struct {
				N int `xml:"n,attr"`
			}
			_, err := s.DecodeChild(s.Payload, &v)
			return err
		})},
		Route{Kind: IQ, Types: []string{"set"}, Payload: xml.Name{Space: "urn:x:refuse"}, Handler: HandlerFunc(func(context.Context, Writer, *Stanza) error {
			return stanza.NewError("auth", "forbidden", "no")
		})},
		Route{Kind: IQ, Types: []string{"set"}, Payload: xml.Name{Space: "urn:x:fail"}, Handler: HandlerFunc(func(context.Context, Writer, *Stanza) error {
			return errors.New("disk on fire")
		})},
		// Refuse what may not be answered.
		Route{Kind: IQ, Types: []string{"result"}, Payload: xml.Name{Space: "urn:x:refuse"}, Handler: HandlerFunc(func(context.Context, Writer, *Stanza) error {
			return stanza.NewError("auth", "forbidden", "no")
		})},
		Route{Kind: Message, Types: []string{"headline"}, Handler: HandlerFunc(func(context.Context, Writer, *Stanza) error {
			return stanza.NewError("auth", "forbidden", "no")
		})},
	)
	const a, c, g = `from="a@x.test/r" to="c@gw.test"`, `from="c@gw.test" to="a@x.test/r"`, `from="a@x.test/r" to="gw.test"`
	tests := []struct {
		in     string
		target Target
		out    string
	}{
		0: {`<message ` + a + `><body>hi</body></message>`, Contact, `<message id="any-message" ` + c + `></message>`},
		1: {`<message ` + a + `><body>x</body><retract xmlns="urn:xmpp:message-retract:1" id="m"/></message>`, Contact, `<message id="retract" ` + c + `></message>`},
		2: {`<message type="groupchat" ` + a + `><body>hi</body></message>`, Room, `<message id="room" ` + c + `></message>`},
		3: {`<message type="groupchat" ` + a + `><body>hi</body></message>`, Contact, `<message id="any-message" ` + c + `></message>`},
		4: {`<iq type="get" id="1" ` + a + `><ping xmlns="urn:xmpp:ping"/></iq>`, Contact, `<message id="ping" ` + c + `></message>`},
		5: {`<iq type="get" id="2" ` + a + `><query xmlns="jabber:iq:version"/></iq>`, Contact,
			`<iq type="error" id="2" ` + c + `><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></service-unavailable></error></iq>`},
		6: {`<iq type="get" id="3" ` + g + `><query xmlns="jabber:iq:version"/></iq>`, Gateway, `<message id="version" from="gw.test" to="a@x.test/r"></message>`},
		7: {`<iq type="result" id="4" ` + a + `/>`, Contact, ``},
		8: {`<iq type="set" id="5" ` + a + `><q xmlns="urn:x:bad" n="x"/></iq>`, Contact,
			`<iq type="error" id="5" ` + c + `><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></bad-request><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">a value in this stanza is not valid</text></error></iq>`},
		9: {`<iq type="set" id="6" ` + a + `><q xmlns="urn:x:refuse"/></iq>`, Contact,
			`<iq type="error" id="6" ` + c + `><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></forbidden><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no</text></error></iq>`},
		10: {`<iq type="set" id="7" ` + a + `><q xmlns="urn:x:fail"/></iq>`, Contact,
			`<iq type="error" id="7" ` + c + `><error type="wait"><internal-server-error xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></internal-server-error></error></iq>`},
		11: {`<presence ` + a + `/>`, Contact, ``},
		12: {`<message from="x.test" to="c@gw.test"><s xmlns="urn:x:server"/></message>`, Contact, `<message id="server" from="c@gw.test" to="x.test"></message>`},
		13: {`<message ` + a + `><body>hi</body><s xmlns="urn:x:server"/></message>`, Contact, // passed on
			`<message id="any-message" ` + c + `></message>`},
		// A handler's error never answers an IQ result or a headline.
		14: {`<iq type="result" id="9" ` + a + `><q xmlns="urn:x:refuse"/></iq>`, Contact, ``},
		15: {`<message type="headline" ` + a + `><body>hi</body></message>`, Contact, ``},
	}
	for i, tt := range tests {
		var w buf
		r.Dispatch(context.Background(), &w, parse(t, tt.in, tt.target))
		if got := w.String(); got != tt.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
		}
	}
}

// Features lists, sorted and once each, what the routes declare for a
// target.
func TestFeatures(t *testing.T) {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)),
		Route{Kind: IQ, Features: []Feature{{Var: "urn:xmpp:ping", Targets: Gateway}, {Var: "a", Targets: AnyTarget}}},
		Route{Kind: Message, Features: []Feature{{Var: "urn:xmpp:receipts", Targets: Gateway | Contact}, {Var: "a", Targets: Contact}}},
	)
	for _, tt := range []struct {
		target Target
		want   string
	}{
		{Gateway, "a urn:xmpp:ping urn:xmpp:receipts"},
		{Contact, "a urn:xmpp:receipts"},
		{Room, "a"},
	} {
		if got := strings.Join(r.Features(tt.target), " "); got != tt.want {
			t.Errorf("Features(%d) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestDecodeChild(t *testing.T) {
	s := parse(t, `<message from="a@x.test" to="b@y.test"><body>hi</body><x xmlns="urn:a"><n>1</n></x><x xmlns="urn:b"/></message>`, Contact)
	var v struct {
		N int `xml:"n"`
	}
	if ok, err := s.DecodeChild(xml.Name{Space: "urn:a", Local: "x"}, &v); !ok || err != nil || v.N != 1 {
		t.Errorf("DecodeChild = %v, %v, %+v", ok, err, v)
	}
	if ok, err := s.DecodeChild(xml.Name{Space: "urn:c", Local: "x"}, &v); ok || err != nil {
		t.Errorf("DecodeChild of a missing child = %v, %v", ok, err)
	}
	if s.Child(xml.Name{Space: "urn:b"}) == nil || s.Type != "normal" {
		t.Errorf("Child(urn:b) missing or type %q", s.Type)
	}
	for name, want := range map[xml.Name]bool{
		{Space: "urn:a", Local: "x"}: true, {Space: "urn:b"}: true, {Local: "body"}: true,
		{Space: "urn:c", Local: "x"}: false, {Local: "n"}: false, // n is a grandchild
	} {
		if got := s.HasChild(name); got != want {
			t.Errorf("HasChild(%v) = %v, want %v", name, got, want)
		}
	}
}

func TestEachChild(t *testing.T) {
	s := parse(t, `<message from="a@x.test" to="b@y.test"><x xmlns="jabber:x:oob"><url>u1</url></x><body>b</body><x xmlns="jabber:x:oob"><url>u2</url></x></message>`, Contact)
	var urls []string
	err := s.EachChild(xml.Name{Space: "jabber:x:oob", Local: "x"}, func(decode func(any) error) error {
		var v struct {
			URL string `xml:"url"`
		}
		if err := decode(&v); err != nil {
			return err
		}
		urls = append(urls, v.URL)
		return nil
	})
	if err != nil || strings.Join(urls, ",") != "u1,u2" {
		t.Errorf("EachChild: %q, %v", urls, err)
	}
}

// In a stream, the stanza's own children (body) have the stream's default
// namespace: a route or part naming them without one still finds them.
func TestStreamNamespace(t *testing.T) {
	s := parse(t, `<message xmlns="jabber:component:accept" from="a@x.test" to="b@y.test"><body>hi</body></message>`, Contact)
	var body string
	if ok, err := s.DecodeChild(xml.Name{Local: "body"}, &body); !ok || err != nil || body != "hi" {
		t.Errorf("DecodeChild(body) = %v, %v, %q", ok, err, body)
	}
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)),
		Route{Kind: Message, Payload: xml.Name{Local: "body"}, Handler: named("body")})
	var w buf
	r.Dispatch(context.Background(), &w, s)
	if !strings.Contains(w.String(), `id="body"`) {
		t.Errorf("the body route did not match: %s", w.String())
	}
}
