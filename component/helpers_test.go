package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppgw/component/conn"
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
		Transport:  tr,
		Identity:   transports.Identity{Gateway: "sms", Name: "SMS", Prompt: "Phone number", Desc: "Enter a phone number"},
		Store:      store,
		Conn:       &conn.Conn{Domain: jid.MustParse("sms.example.test")},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:    func(b string) bool { return strings.HasSuffix(b, "@example.test") },
		UserDomain: func(d string) bool { return d == "example.test" },
		Version:    "test",
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
	q, err := store.ToXMPP().Pending(context.Background(), "sms", 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range q {
		b.Write(s.Stanza)
	}
	return b.String()
}

// pipeSession returns a component session of g served over a pipe, as
// after the handshake, and the pipe's server end.
func pipeSession(t *testing.T, ctx context.Context, g *Gateway) (*xmpp.Session, net.Conn) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	ready := func(_ context.Context, in, _ *stream.Info, _ *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, any, error) {
		in.XMLNS = "jabber:component:accept"
		return xmpp.Ready, nil, nil, nil
	}
	s, err := xmpp.NewSession(ctx, g.domain, g.domain, client, 0, ready)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); s.Serve(g.o.Conn.Handler(g)) }()
	t.Cleanup(func() { client.Close(); <-served })
	return s, server
}

// readStanza reads one top-level element from r and returns it, as written,
// and its id.
func readStanza(t *testing.T, r io.Reader) (string, string) {
	t.Helper()
	var raw bytes.Buffer
	d := xml.NewDecoder(io.TeeReader(r, &raw))
	depth := 0
	var id string
	for {
		tok, err := d.RawToken()
		if err != nil {
			t.Fatalf("reading a stanza: %v (read %q)", err, raw.String())
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				for _, a := range tok.Attr {
					if a.Name.Local == "id" {
						id = a.Value
					}
				}
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				return raw.String()[:d.InputOffset()], id
			}
		}
	}
}
