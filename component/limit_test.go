package component

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// A stanza over the size limit is refused with policy-violation, and the
// stream stays in step: the next stanza is handled normally.
func TestStanzaSizeLimit(t *testing.T) {
	g, tr, _ := testGateway(t)
	g.o.MaxStanza = 1000
	big := strings.Repeat("x", 2000)
	stream := `<message type="chat" id="big" from="alice@example.test/p" to="+15551234567@sms.example.test"><body>` + big +
		`</body><active xmlns="http://jabber.org/protocol/chatstates"><nested>` + big + `</nested></active></message>` +
		`<iq type="get" id="next" from="alice@example.test/p" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`
	d := xml.NewDecoder(strings.NewReader(stream))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	for range 2 {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		start := tok.(xml.StartElement)
		if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
			t.Fatalf("HandleXMPP: %v", err)
		}
	}
	enc.Flush()
	want := `<message type="error" id="big" from="+15551234567@sms.example.test" to="alice@example.test/p"><error type="modify"><policy-violation ` + errNS + `></policy-violation><text ` + errNS + `>stanza over the gateway&#39;s limit of 1000 bytes</text></error></message>` +
		`<iq type="result" id="next" from="sms.example.test" to="alice@example.test/p"></iq>`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if len(tr.Sent()) != 0 || g.Stats.Refused.Load() != 1 {
		t.Errorf("sent %d, refused %d", len(tr.Sent()), g.Stats.Refused.Load())
	}
}

// Malformed XML ends the stream (the link reconnects) and is counted.
func TestMalformedStanza(t *testing.T) {
	g, _, _ := testGateway(t)
	d := xml.NewDecoder(strings.NewReader(`<message from="alice@example.test/p" to="sms.example.test"><body>x</bod></message>`))
	tok, _ := d.Token()
	start := tok.(xml.StartElement)
	var out bytes.Buffer
	if err := g.HandleXMPP(pipe{d, xml.NewEncoder(&out)}, &start); err == nil {
		t.Fatal("malformed stanza accepted")
	}
	if g.Stats.Malformed.Load() != 1 {
		t.Errorf("malformed %d", g.Stats.Malformed.Load())
	}
}
