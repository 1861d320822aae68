package component

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// FuzzHandleStanza feeds arbitrary stanzas to the handler: it must never
// panic, and whatever it writes must be well-formed XML.
func FuzzHandleStanza(f *testing.F) {
	for _, tc := range handleTests {
		f.Add(tc.in)
	}
	f.Add(`<iq type="set" id="x" from="a@b" to="sms.example.test"><query xmlns="jabber:iq:gateway"><prompt>` + strings.Repeat("9", 100) + `</prompt></query></iq>`)
	for _, tc := range linkedHandleTests {
		f.Add(tc.in)
	}
	f.Add(`<message type="chat" id="c" from="alice@example.test/p" to="+15550002222@tg.example.test"><body>x</body><replace xmlns="urn:xmpp:message-correct:0" id=""/></message>`)
	f.Add(`<message type="chat" from="alice@example.test/p" to="+15550002222@tg.example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	sms, _, _ := testGateway(f)
	tg, _, _ := linkedGateway(f)
	f.Fuzz(func(t *testing.T, in string) {
		for _, g := range []*Gateway{sms, tg} {
			d := xml.NewDecoder(strings.NewReader(in))
			tok, err := d.Token()
			start, ok := tok.(xml.StartElement)
			if err != nil || !ok {
				return
			}
			var out bytes.Buffer
			enc := xml.NewEncoder(&out)
			if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
				continue // malformed input ends the stream; that is the contract
			}
			enc.Flush()
			od := xml.NewDecoder(&out)
			for {
				if _, err := od.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("wrote malformed XML %q: %v", out.String(), err)
				}
			}
		}
	})
}
