package routertest

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// Stanza reads raw, one stanza, as sent to a target of kind target. Its
// elements get the component stream's namespace unless they declare one.
func Stanza(t testing.TB, raw string, target router.Target) *router.Stanza {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(`<stream xmlns="jabber:component:accept">` + raw + `</stream>`))
	if _, err := d.Token(); err != nil { // the stream's start
		t.Fatalf("routertest: %q: %v", raw, err)
	}
	var toks []xml.Token
	for depth := 0; ; {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("routertest: %q: %v", raw, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		if depth < 0 {
			break // the stream's end
		}
		toks = append(toks, xml.CopyToken(tok))
	}
	if len(toks) == 0 {
		t.Fatalf("routertest: no stanza in %q", raw)
	}
	start := toks[0].(xml.StartElement)
	var from, to jid.JID
	for _, a := range start.Attr {
		var err error
		switch a.Name.Local {
		case "from":
			from, err = jid.Parse(a.Value)
		case "to":
			to, err = jid.Parse(a.Value)
		}
		if err != nil {
			t.Fatalf("routertest: %q: %v", raw, err)
		}
	}
	return router.NewStanza(toks, from, to, target)
}

// Writer records what is written to it as the gateway's session writer
// does: each stanza rendered, then copied token by token to the stream.
type Writer struct {
	buf bytes.Buffer
	enc *xml.Encoder
}

// Encode implements router.Writer.
func (w *Writer) Encode(v any) {
	if w.enc == nil {
		w.enc = xml.NewEncoder(&w.buf)
	}
	r := stanza.NewRawReader(stanza.Render(v))
	for {
		tok, err := r.Token()
		if err != nil {
			break
		}
		w.enc.EncodeToken(tok)
	}
	w.enc.Flush()
}

// String returns what was written.
func (w *Writer) String() string { return w.buf.String() }
