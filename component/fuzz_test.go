package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"mellium.im/xmpp"
	"mellium.im/xmpp/stream"
)

// serve runs a real mellium session over in (stanzas with no stream header,
// as the read loop sees them after the handshake) with g as its handler, and
// returns what the session wrote and what Serve returned: nil when the input
// ran out with the stream intact, an error when the stream ended.
func serve(t testing.TB, g *Gateway, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	// The stream's header declares the namespace its stanzas have; the
	// negotiator reads it, as the handshake would.
	rw := struct {
		io.Reader
		io.Writer
	}{strings.NewReader(streamHeader + in + `</stream:stream>`), &out}
	ready := func(_ context.Context, in, _ *stream.Info, s *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, any, error) {
		in.XMLNS = "jabber:component:accept"
		r := s.TokenReader()
		defer r.Close()
		_, err := r.Token()
		return xmpp.Ready, nil, nil, err
	}
	s, err := xmpp.NewSession(context.Background(), g.domain, g.domain, rw, 0, ready)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Serve(g)
	return strings.TrimSuffix(out.String(), "</stream:stream>"), err
}

const streamHeader = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams" from="sms.example.test" id="x">`

// wellFormed reports whether in is a sequence of complete, well-formed
// elements, with only whitespace between them.
func wellFormed(in string) bool { return wellFormedTop(in, nil) }

// stanzas reports whether in is a sequence of well-formed stanzas of the
// component stream (message, presence, iq), with only whitespace between.
// A stanza has the stream's namespace ("" here: in has no header), that
// namespace written out, or jabber:client, as a server may route them.
func stanzas(in string) bool {
	return wellFormedTop(in, func(e xml.StartElement) bool {
		return stanzaNS[e.Name.Space] && (e.Name.Local == "message" || e.Name.Local == "presence" || e.Name.Local == "iq")
	})
}

// stanzaNS are the namespaces of a stanza on the component stream.
var stanzaNS = map[string]bool{"": true, "jabber:component:accept": true, "jabber:client": true}

// topLevel returns the top-level elements of in, a well-formed sequence.
func topLevel(in string) []xml.StartElement {
	var out []xml.StartElement
	wellFormedTop(in, func(e xml.StartElement) bool {
		out = append(out, e.Copy())
		return true
	})
	return out
}

// attr is e's attribute name in no namespace: the last one, as the
// gateway reads a stanza's header (headerOf).
func attr(e xml.StartElement, name string) string {
	v := ""
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			v = a.Value
		}
	}
	return v
}

func wellFormedTop(in string, top func(xml.StartElement) bool) bool {
	d := xml.NewDecoder(strings.NewReader(in))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return depth == 0
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && top != nil && !top(t) {
				return false
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.Trim(t, " \t\r\n")) > 0 { // XML's whitespace, not Unicode's (U+00A0 is text)
				return false
			}
		case xml.ProcInst, xml.Directive:
			return false // not allowed in a stream
		}
	}
}

// FuzzHandleStanza feeds arbitrary input to real sessions served by four
// gateways: SMS (testGateway), a linked Telegram bot (linkedGateway), one
// whose groups are rooms (roomGateway: package muc) and one users sign in
// to (slowLoginGateway, answering at once); admin@example.test is an admin
// of each. Its seeds reach every module: MUC, ad-hoc commands, vCards,
// registration, XEP-0356 advertisements and the answers to roster pushes.
// Properties: a well-formed stanza never ends the stream, whatever its
// values; whatever the gateway writes is well-formed XML; no handling
// panics, not even one the read loop recovers. And for one well-formed
// stanza alone: an error, an IQ result or a headline is never answered
// with an error (RFC 6120 8.3.1), and an IQ get or set with an id is
// answered exactly once (8.2.3).
func FuzzHandleStanza(f *testing.F) {
	for _, tc := range handleTests {
		f.Add(tc.in)
	}
	f.Add(`<iq type="set" id="x" from="a@b" to="sms.example.test"><query xmlns="jabber:iq:gateway"><prompt>` + strings.Repeat("9", 100) + `</prompt></query></iq>`)
	for _, tc := range linkedHandleTests {
		f.Add(tc.in)
	}
	for _, tc := range badValueTests {
		f.Add(tc.in)
	}
	for _, tc := range adhocTests {
		f.Add(tc.in)
	}
	for _, st := range roomSteps {
		if st.in != "" {
			f.Add(st.in)
		}
	}
	for _, s := range moduleSeeds {
		for _, d := range []string{"sms.example.test", "tg.example.test"} {
			f.Add(strings.ReplaceAll(s, "DOM", d))
		}
	}
	f.Add(`<message type="chat" id="c" from="alice@example.test/p" to="+15550002222@tg.example.test"><body>x</body><replace xmlns="urn:xmpp:message-correct:0" id=""/></message>`)
	f.Add(`<message type="chat" from="alice@example.test/p" to="+15550002222@tg.example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	f.Add(`<message type="chat" id="e" from="mallory@evil.example/r" to="abcdefgh\2f@tg.example.test"><body>x</body></message>`)
	f.Add(`<presence from="alice@example.test/p" to="my\20bank\2f\3a@sms.example.test/nick"/>`)
	f.Add(`<message type="chat" id="e" from="alice@example.test/p" to="abcdefgh\2f@sms.example.test"><body>x</body></message>`)
	f.Add(`<message type="chat" id="e" from="alice@example.test/p" to="abcdefgh\2f@tg.example.test"><body>x</body></message>`)
	sms, _, _ := testGateway(f)
	tg, _, _ := linkedGateway(f)
	rooms, roomStore := roomGateway(f)
	signIn, login := slowLoginGateway(f)
	close(login.gate) // its network answers at once
	gateways := []*Gateway{sms, tg, rooms, signIn}
	for _, g := range gateways {
		g.o.Admin = func(b string) bool { return b == "admin@example.test" }
	}
	f.Fuzz(func(t *testing.T, in string) {
		// An input may remove the rooms' links (an unregistration): the
		// next finds them again, or none could reach the rooms after it.
		if err := roomStore.Links().ImportLinks(context.Background(), "tg", roomLinks); err != nil {
			t.Fatal(err)
		}
		wf := stanzas(in)
		var one *xml.StartElement // the stanza, if in is one well-formed stanza of a size the gateway reads
		if top := topLevel(in); wf && len(top) == 1 && len(in) <= DefaultMaxStanza/2 {
			one = &top[0]
		}
		for i, g := range gateways {
			out, err := serve(t, g, in)
			if err != nil {
				if wf {
					t.Fatalf("gateway %d: well-formed stanzas ended the stream: %v\ninput: %q\nwrote: %q", i, err, in, out)
				}
				continue // XML that is not well-formed may end the stream
			}
			if !wellFormed(out) {
				t.Fatalf("gateway %d: wrote malformed XML %q", i, out)
			}
			if n := g.Stats.Panics.Load(); n > 0 {
				t.Fatalf("gateway %d: handling panicked (recovered, answered internal-server-error)\ninput: %q\nwrote: %q", i, in, out)
			}
			if one != nil {
				answeredOnce(t, i, *one, in, out)
			}
		}
	})
}

// answeredOnce checks what the gateway (number i) wrote, out, for the one
// stanza s (input in): an error, an IQ result or a headline gets no error;
// an IQ get or set with an id gets exactly one result or error with its
// id.
func answeredOnce(t *testing.T, i int, s xml.StartElement, in, out string) {
	t.Helper()
	typ, written := attr(s, "type"), topLevel(out)
	if typ == "error" || s.Name.Local == "iq" && typ == "result" || s.Name.Local == "message" && typ == "headline" {
		for _, a := range written {
			if attr(a, "type") == "error" {
				t.Fatalf("gateway %d: a %s of type %s was answered with an error\ninput: %q\nwrote: %q", i, s.Name.Local, typ, in, out)
			}
		}
	}
	if id := attr(s, "id"); s.Name.Local == "iq" && (typ == "get" || typ == "set") && id != "" {
		n := 0
		for _, a := range written {
			if a.Name.Local == "iq" && attr(a, "id") == id && (attr(a, "type") == "result" || attr(a, "type") == "error") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("gateway %d: an IQ %s was answered %d times\ninput: %q\nwrote: %q", i, typ, n, in, out)
		}
	}
}

// moduleSeeds reach the modules on each domain (DOM): MUC on the rooms
// gateway (+15550003333 is alice's group), ad-hoc commands (the sign-in
// gateway's login among them), vCards, XEP-0356 advertisements and the
// answers to roster pushes, registration, multicast.
var moduleSeeds = []string{
	`<presence id="j1" from="alice@example.test/pc" to="+15550003333@DOM/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="5"/></x></presence>`,
	`<presence id="j1" from="alice@example.test/pc" to="+15550003333@DOM/al"><x xmlns="http://jabber.org/protocol/muc"/></presence><message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@DOM"><body>on it</body></message>`,
	`<presence type="unavailable" from="alice@example.test/pc" to="+15550003333@DOM/al"/>`,
	`<presence id="j26" from="alice@example.test/pc" to="+15550003333@DOM"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
	`<iq type="set" id="q1" from="alice@example.test/pc" to="+15550003333@DOM"><query xmlns="urn:xmpp:mam:2" queryid="f"><set xmlns="http://jabber.org/protocol/rsm"><max>5</max><before/></set></query></iq>`,
	`<iq type="set" id="q2" from="alice@example.test/pc" to="+15550003333@DOM"><query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><after>x</after></set></query></iq>`,
	`<iq type="get" id="sp1" from="alice@example.test/pc" to="+15550003333@DOM/al"><ping xmlns="urn:xmpp:ping"/></iq>`,
	`<iq type="get" id="di1" from="alice@example.test/pc" to="+15550003333@DOM"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
	`<message type="error" id="g9" from="alice@example.test/pc" to="+15550003333@DOM/Bob"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
	`<message type="chat" id="pm1" from="alice@example.test/phone" to="+15550003333@DOM/Bob"><body>only for Bob</body></message>`,
	`<iq type="set" id="c1" from="alice@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="links" action="execute"/></iq>`,
	`<iq type="set" id="c2" from="alice@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="unlink"/></iq>`,
	`<iq type="set" id="c3" from="alice@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="unlink" sessionid="s"><x xmlns="jabber:x:data" type="submit"><field var="chats"><value>+15550002222</value></field></x></command></iq>`,
	`<iq type="set" id="c4" from="admin@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="send-test" sessionid="s"><x xmlns="jabber:x:data" type="submit"><field var="to"><value>+15550002222</value></field><field var="text"><value>t</value></field></x></command></iq>`,
	`<iq type="set" id="c5" from="alice@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="login"/></iq>`,
	`<iq type="set" id="c6" from="alice@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="login" sessionid="s1"><x xmlns="jabber:x:data" type="submit"><field var="phone"><value>+15550001111</value></field></x></command></iq>`,
	`<iq type="set" id="c7" from="admin@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="admin-link" sessionid="s"><x xmlns="jabber:x:data" type="submit"><field var="user"><value>bob@example.test</value></field><field var="chat"><value>+15550004444</value></field></x></command></iq>`,
	`<iq type="set" id="c8" from="admin@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="stats"/></iq>`,
	`<iq type="set" id="c9" from="admin@example.test/pc" to="DOM"><command xmlns="http://jabber.org/protocol/commands" node="admin-links" action="cancel" sessionid="s"/></iq>`,
	`<iq type="get" id="v1" from="alice@example.test/pc" to="+15550002222@DOM"><vCard xmlns="vcard-temp"/></iq>`,
	`<iq type="get" id="v2" from="alice@example.test/pc" to="+15550003333@DOM/al"><vCard xmlns="vcard-temp"/></iq>`,
	`<message from="example.test" to="DOM"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/><perm access="message" type="outgoing"/></privilege></message>`,
	`<message from="evil.test" to="DOM"><privilege xmlns="urn:xmpp:privilege:1"><perm access="roster" type="set"/></privilege></message>`,
	`<iq type="error" id="roster.add.KzE1NTUwMDAyMjIyQHRnLmV4YW1wbGUudGVzdA.0011223344556677" from="alice@example.test" to="DOM"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	`<iq type="result" id="roster.remove.KzE1NTUwMDAyMjIyQHRnLmV4YW1wbGUudGVzdA.0011223344556677" from="alice@example.test" to="DOM"/>`,
	`<iq type="error" id="roster.add.KzE1NTUwMDAyMjIyQHNtcy5leGFtcGxlLnRlc3Q.0011223344556677" from="alice@example.test" to="DOM"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	`<iq type="get" id="r1" from="alice@example.test/pc" to="DOM"><query xmlns="jabber:iq:register"/></iq>`,
	`<iq type="set" id="r2" from="alice@example.test/pc" to="DOM"><query xmlns="jabber:iq:register"><remove/></query></iq>`,
	`<iq type="set" id="r3" from="alice@example.test/pc" to="DOM"><query xmlns="jabber:iq:register"><username>x</username></query></iq>`,
	`<message type="chat" id="l1" from="alice@example.test/pc" to="DOM"><body>link</body></message>`,
	`<message id="mc" from="alice@example.test/pc" to="DOM"><body>hi</body><addresses xmlns="http://jabber.org/protocol/address"><address type="to" jid="+15550002222@DOM"/><address type="bcc" jid="+15550004444@DOM"/></addresses></message>`,
	`<message type="headline" id="h1" from="alice@example.test/pc" to="+15550002222@DOM"><body>news</body></message>`,
}

// badValueTests are well-formed stanzas with values that do not fit their
// types: each is refused alone, and the stream goes on.
var badValueTests = []struct {
	rooms   bool // on roomGateway (tg.example.test, package muc's rooms), else testGateway
	in, out string
}{
	0: {
		rooms: true,
		in:    `<presence id="j1" from="mallory@evil.test/x" to="+15550003333@tg.example.test/x"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="x"/></x></presence>`,
		out:   `<presence type="error" id="j1" from="+15550003333@tg.example.test/x" to="mallory@evil.test/x"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></bad-request><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">a value in this stanza is not valid</text></error></presence>`,
	},
	1: {
		in:  `<message type="chat" id="m1" from="alice@example.test/p" to="+15550002222@sms.example.test"><body>x</body><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="a"/></fallback></message>`,
		out: `<message type="error" id="m1" from="+15550002222@sms.example.test" to="alice@example.test/p"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></bad-request><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">a value in this stanza is not valid</text></error></message>`,
	},
	2: {
		in:  `<message type="chat" id="m2" from="alice@example.test/p" to="+15550002222@sms.example.test"><body>x</body><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="99999999999999999999999"/></fallback></message>`,
		out: `<message type="error" id="m2" from="+15550002222@sms.example.test" to="alice@example.test/p"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></bad-request><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">a value in this stanza is not valid</text></error></message>`,
	},
	3: { // an address mellium cannot parse: answered as written
		in:  `<iq type="get" id="q1" from="a@b@c" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		out: `<iq type="error" id="q1" from="sms.example.test" to="a@b@c"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></jid-malformed><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">invalid sender address</text></error></iq>`,
	},
	4: { // an error is never answered
		in:  `<message type="error" id="m3" from="alice@example.test/p" to="+15550002222@sms.example.test"><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="-"/></fallback></message>`,
		out: ``,
	},
}

// TestBadValueKeepsStream sends each stanza with a bad value, then a ping,
// through a real session: the stanza is refused, and the ping after it is
// still answered on the same stream.
func TestBadValueKeepsStream(t *testing.T) {
	sms, _, _ := testGateway(t)
	tg, _ := roomGateway(t)
	const ping = `<iq type="get" id="p1" from="alice@example.test/p" to="DOMAIN"><ping xmlns="urn:xmpp:ping"/></iq>`
	const pong = `<iq type="result" id="p1" from="DOMAIN" to="alice@example.test/p"></iq>`
	for i, tc := range badValueTests {
		g, domain := sms, "sms.example.test"
		if tc.rooms {
			g, domain = tg, "tg.example.test"
		}
		ping, pong := strings.ReplaceAll(ping, "DOMAIN", domain), strings.ReplaceAll(pong, "DOMAIN", domain)
		out, err := serve(t, g, tc.in+ping)
		if err != nil {
			t.Errorf("%d: the stream ended: %v", i, err)
			continue
		}
		if want := tc.out + pong; out != want {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, out, want)
		}
	}
}

// TestMalformedEndsStream: XML that is not well-formed is the one input
// that ends the stream.
func TestMalformedEndsStream(t *testing.T) {
	g, _, _ := testGateway(t)
	for i, in := range []string{
		`<message from="alice@example.test/p" to="+15550002222@sms.example.test"><body>x</message>`,
		`<message from="alice@example.test/p" to="+15550002222@sms.example.test"><body>x</body>`,
	} {
		if _, err := serve(t, g, in); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%d: the stream went on after %q (err %v)", i, in, err)
		}
	}
}

// On a stream whose stanzas are in jabber:client (a server may route them
// so), mellium answers an IQ get or set itself when the handler wrote no
// answer during the call, as when the intake holds it back behind earlier
// commits, addressed to the IQ's from. A from that does not parse must not
// end the stream then, whether the IQ is refused for its from or for its
// size, or another from (in a namespace of its own, or twice) is the one
// mellium reads: the handler blanks it.
func TestClientNamespaceUnparsableFrom(t *testing.T) {
	g, _, _ := testGateway(t)
	// Earlier stanzas wait for their commit: answers are held back (the
	// intake is not running here, so they stay held).
	g.in.running.Store(true)
	g.in.pending.Add(1)
	in := `<iq xmlns="jabber:client" type="get" id="p1" from="a@b@c" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>` +
		`<iq xmlns="jabber:client" type="set" id="p0" from="a@b@c" to="sms.example.test"><query xmlns="jabber:iq:register">` + strings.Repeat("<x/>", 100_000) + `</query></iq>` +
		`<iq xmlns="jabber:client" xmlns:x="urn:x" type="get" id="p3" x:from="a@b@c" from="alice@example.test/pc" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>` +
		`<iq xmlns="jabber:client" type="get" id="p4" from="a@b@c" from="alice@example.test/pc" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>` +
		`<iq xmlns="jabber:client" type="get" id="p2" from="alice@example.test/pc" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`
	out, err := serve(t, g, in)
	if err != nil {
		t.Fatalf("the stream ended: %v (wrote %s)", err, out)
	}
	if !strings.Contains(out, `id="p2"`) {
		t.Errorf("the next IQ was not answered (by mellium, the gateway's answer being held): %s", out)
	}
}

// wellFormed takes only XML's whitespace between stanzas: a no-break space
// (U+00A0) there is text, which ends a stream.
func TestWellFormedWhitespace(t *testing.T) {
	for in, want := range map[string]bool{
		"<a/> \t\r\n<b/>": true,
		"<a/>\u00a0<b/>":  false,
		"<a/>\u0085":      false,
	} {
		if got := wellFormed(in); got != want {
			t.Errorf("wellFormed(%q) = %v, want %v", in, got, want)
		}
	}
}

// stanzas takes message, presence and iq in the stream's namespaces as
// stanzas, and nothing else.
func TestStanzasNamespaces(t *testing.T) {
	for in, want := range map[string]bool{
		`<message/><presence/><iq/>`:                 true,
		`<message xmlns="jabber:component:accept"/>`: true,
		`<iq xmlns="jabber:client"/>`:                true,
		`<c:presence xmlns:c="jabber:client"/>`:      true,
		`<message xmlns="jabber:server"/>`:           false,
		`<body/>`:                                    false,
	} {
		if got := stanzas(in); got != want {
			t.Errorf("stanzas(%q) = %v, want %v", in, got, want)
		}
	}
}
