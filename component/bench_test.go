package component

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// Each benchmark X has a baseline X_Baseline: encoding/xml doing the least
// the same job needs. make bench prints X's time as a ratio to it.

const benchStanza = `<message type="chat" id="a1" from="alice@example.com/phone" to="+15551234567@sms.example.com"><body>disk full on db1</body><request xmlns="urn:xmpp:receipts"/></message>`

// BenchmarkStanzaDecode: a message as HandleXMPP reads it: whole, within
// the size limit, then each registered part (stanza_parts.go).
func BenchmarkStanzaDecode(b *testing.B) {
	g, _, _ := testGateway(b)
	from, to := jid.MustParse("alice@example.com/phone"), jid.MustParse("+15551234567@sms.example.com")
	for b.Loop() {
		d := xml.NewDecoder(strings.NewReader(benchStanza))
		tok, _ := d.Token()
		start := tok.(xml.StartElement)
		lim := &limitReader{r: xmlstream.MultiReader(xmlstream.Token(start), d), left: DefaultMaxStanza}
		tokens, err := readWholeStanza(lim)
		if err != nil {
			b.Fatal(err)
		}
		in, err := g.readInStanza(router.NewStanza(tokens, from, to, router.Contact))
		if err != nil || in.Body == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStanzaDecode_Baseline(b *testing.B) {
	for b.Loop() {
		d := xml.NewDecoder(strings.NewReader(benchStanza))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStanzaEncode: an inbound message rendered for the store and
// written out as the writer does.
func BenchmarkStanzaEncode(b *testing.B) {
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		st := render(message{Type: "chat", ID: "SM0123456789", From: "+15551234567@sms.example.com", To: "alice@example.com",
			Body: "ack, looking at db1", OriginID: &originID{ID: "SM0123456789"}})
		enc := xml.NewEncoder(&out)
		if _, err := xmlstream.Copy(enc, newRawReader(st)); err != nil {
			b.Fatal(err)
		}
		enc.Flush()
	}
}

func BenchmarkStanzaEncode_Baseline(b *testing.B) {
	type msg struct {
		XMLName xml.Name `xml:"message"`
		Type    string   `xml:"type,attr"`
		ID      string   `xml:"id,attr"`
		From    string   `xml:"from,attr"`
		To      string   `xml:"to,attr"`
		Body    string   `xml:"body"`
	}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := xml.NewEncoder(&out).Encode(msg{xml.Name{}, "chat", "SM0123456789", "+15551234567@sms.example.com", "alice@example.com", "ack, looking at db1"}); err != nil {
			b.Fatal(err)
		}
	}
}
