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
	g, _, _ := testGateway(f)
	f.Fuzz(func(t *testing.T, in string) {
		d := xml.NewDecoder(strings.NewReader(in))
		tok, err := d.Token()
		start, ok := tok.(xml.StartElement)
		if err != nil || !ok {
			return
		}
		var out bytes.Buffer
		enc := xml.NewEncoder(&out)
		if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
			return // malformed input ends the stream; that is the contract
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
	})
}
