package conn

import (
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"
)

// barrierIDs is the form of a write barrier's ping id: 128 random bits.
var barrierIDs = regexp.MustCompile(`^barrier-[0-9a-f]{32}$`)

// A write barrier's ping has an id no one can guess, and only an answer
// from the gateway's own domain confirms a batch: a user's answer with the
// same id, even of type result, does not.
func TestBarrierAnswer(t *testing.T) {
	const ping = `<iq type="get" id="ID" from="sms.example.test" to="sms.example.test"><ping xmlns="urn:xmpp:ping"></ping></iq>`
	tests := []struct {
		answer string // ID is replaced by the ping's id
		ok     bool
	}{
		0: {`<iq type="result" id="ID" from="sms.example.test" to="sms.example.test"/>`, true},
		1: {`<iq type="result" id="ID" from="alice@example.test/pc" to="sms.example.test"/>`, false},
		2: {`<iq type="result" id="ID" from="alice@example.test" to="sms.example.test"/>`, false},
		3: {`<iq type="result" id="ID" from="example.test" to="sms.example.test"/>`, false},
		4: {`<iq type="result" id="ID" from="other.example.test" to="sms.example.test"/>`, false},
		5: {`<iq type="error" id="ID" from="sms.example.test" to="sms.example.test"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`, false},
	}
	seen := map[string]bool{}
	for i, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c := &Conn{Domain: jid.MustParse("sms.example.test")}
		sess, server := pipeSession(t, ctx, c)
		c.Attach(sess)
		done := make(chan error, 1)
		go func() { done <- c.Barrier(ctx, sess) }()

		got, id := readStanza(t, server)
		if !barrierIDs.MatchString(id) || seen[id] {
			t.Errorf("%d: ping id %q: want barrier- and 32 random hex digits, new each time", i, id)
		}
		seen[id] = true
		if got = strings.Replace(got, `id="`+id+`"`, `id="ID"`, 1); got != ping {
			t.Errorf("%d: ping\n%s\nwant\n%s", i, got, ping)
		}
		if _, err := io.WriteString(server, strings.Replace(tt.answer, `id="ID"`, `id="`+id+`"`, 1)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; (err == nil) != tt.ok {
			t.Errorf("%d: barrier returned %v, want ok %v", i, err, tt.ok)
		}
		cancel()
	}
}

// pipeSession returns a component session of c's domain served over a
// pipe, as after the handshake, and the pipe's server end. It handles no
// stanza but the answers to c's barriers. It is not up until c.Attach(s).
func pipeSession(t *testing.T, ctx context.Context, c *Conn) (*xmpp.Session, net.Conn) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	return serveSession(t, ctx, c, client), server
}

// serveSession returns a component session of c's domain over conn, as
// after the handshake, served with c.Handler(nil) until conn closes.
func serveSession(t *testing.T, ctx context.Context, c *Conn, conn net.Conn) *xmpp.Session {
	t.Helper()
	ready := func(_ context.Context, in, _ *stream.Info, _ *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, any, error) {
		in.XMLNS = "jabber:component:accept"
		return xmpp.Ready, nil, nil, nil
	}
	s, err := xmpp.NewSession(ctx, c.Domain, c.Domain, conn, 0, ready)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); s.Serve(c.Handler(nil)) }()
	t.Cleanup(func() { conn.Close(); <-served })
	return s
}

// readStanza reads one top-level element from r and returns it, as written,
// and its id. Its decoder reads ahead: to read more than one element from r,
// use one stanzaReader.
func readStanza(t *testing.T, r io.Reader) (string, string) {
	t.Helper()
	return newStanzaReader(r).next(t)
}

// A barrier the server does not answer within BarrierTimeout ends its
// session (the server is not routing what is written to it): its
// connection is closed, so that Run connects again and the writer writes
// what is unconfirmed on the next.
func TestBarrierUnansweredEndsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &Conn{Domain: jid.MustParse("sms.example.test")}
		s, server := pipeSession(t, t.Context(), c)
		c.Attach(s)
		go io.Copy(io.Discard, server) // reads the ping, never answers
		began := time.Now()
		err := c.Barrier(t.Context(), s)
		if err == nil || time.Since(began) != BarrierTimeout {
			t.Fatalf("Barrier returned %v after %v, want an error after %v", err, time.Since(began), BarrierTimeout)
		}
		if c.Connected() {
			t.Error("the session is still up")
		}
		if _, err := s.Conn().Write([]byte(" ")); err == nil {
			t.Error("the session's connection is still open")
		}
	})
}
