package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// testGateway returns a gateway for sms.example.test with a fake transport:
// alice and carol share +15550001111; bob is allowed but has no number.
func testGateway(t testing.TB) (*Gateway, *transporttest.Transport, *mapping.Store) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &transporttest.Transport{TransportName: "sms", Accts: map[string]transports.Addr{
		"alice@example.test": "+15550001111",
		"carol@example.test": "+15550001111",
	}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "sms", Name: "SMS", Prompt: "Phone number", Desc: "Enter a phone number"},
		Store:     store,
		Conn:      &Conn{Domain: jid.MustParse("sms.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
		Version:   "test",
	})
	return g, tr, store
}

// pipe feeds one stanza to a handler and records what it writes.
type pipe struct {
	xml.TokenReader
	enc *xml.Encoder
}

func (p pipe) EncodeToken(t xml.Token) error { return p.enc.EncodeToken(t) }
func (p pipe) Encode(v any) error            { return p.enc.Encode(v) }
func (p pipe) EncodeElement(v any, start xml.StartElement) error {
	return p.enc.EncodeElement(v, start)
}

// handle runs g.HandleXMPP on the stanza in and returns what it wrote.
func handle(t *testing.T, g *Gateway, in string) string {
	t.Helper()
	// In a stream, stanzas have the stream's default namespace.
	d := xml.NewDecoder(strings.NewReader(`<stream xmlns="jabber:component:accept">` + in + `</stream>`))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	start := tok.(xml.StartElement)
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
		t.Fatalf("HandleXMPP: %v", err)
	}
	enc.Flush()
	return out.String()
}

// queued returns the stanzas waiting for XMPP, joined.
func queued(t *testing.T, store *mapping.Store) string {
	t.Helper()
	q, err := store.Outgoing(context.Background(), "sms", 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range q {
		b.Write(s.Stanza)
	}
	return b.String()
}
