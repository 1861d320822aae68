package conn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppgw/internal/logbuf"
)

// refuseHandshake serves one component connection on a loopback listener
// that answers the handshake with the stream error streamErr, and returns
// the listener's address.
func refuseHandshake(t *testing.T, streamErr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='sms.example.test'>`)
		var got []byte
		buf := make([]byte, 512)
		for !bytes.Contains(got, []byte("</handshake>")) {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		io.WriteString(c, `<stream:error>`+streamErr+`</stream:error></stream:stream>`)
	}()
	return ln.Addr().String()
}

// A refused handshake's error keeps the server's condition and text and
// adds the misconfigurations that the servers answer it for, named as
// Origin says (or in generic words); it is still the stream error, and a
// handshake restart.
func TestHandshakeRefused(t *testing.T) {
	const ns = `xmlns='urn:ietf:params:xml:ns:xmpp-streams'`
	cfg := Origin{Domain: "transports[0].domain", Server: "xmpp.server", Secret: "transports[0].secret"}
	tests := []struct {
		origin    Origin
		streamErr string
		want      string
	}{
		0: {cfg, `<host-unknown ` + ns + `/><text ` + ns + `>sms.example.test does not match any configured external components</text>`,
			`component: handshake as sms.example.test: host-unknown ("sms.example.test does not match any configured external components"); likely causes: ` +
				`transports[0].domain (sms.example.test) is not declared as a component on the server (Prosody: Component "sms.example.test"), ` +
				`or xmpp.server is not the server's component port (Prosody answers host-unknown on its client port too)`},
		1: {cfg, `<not-authorized ` + ns + `/>`,
			`component: handshake as sms.example.test: not-authorized; likely causes: ` +
				`transports[0].secret is not the server's secret for sms.example.test (Prosody: component_secret; ejabberd: the password under the ejabberd_service listener's hosts), ` +
				`or transports[0].domain (sms.example.test) is not in that ejabberd listener's hosts (ejabberd answers not-authorized for it)`},
		2: {cfg, `<invalid-namespace ` + ns + `/>`,
			`component: handshake as sms.example.test: invalid-namespace; likely causes: ` +
				`xmpp.server is not the server's component port (ejabberd answers invalid-namespace on its client port)`},
		3: {cfg, `<conflict ` + ns + `/><text xml:lang='en' ` + ns + `>Unable to register route on existing local domain</text>`,
			`component: handshake as sms.example.test: conflict ("Unable to register route on existing local domain"); likely causes: ` +
				`another connection holds sms.example.test (a second gateway with this domain?), ` +
				`or transports[0].domain (sms.example.test) is one of the server's own hosts (a VirtualHost), not a component`},
		4: {cfg, `<internal-server-error ` + ns + `/><text ` + ns + `>oops</text>`,
			`component: handshake as sms.example.test: internal-server-error ("oops")`},
		5: {Origin{}, `<host-unknown ` + ns + `/>`,
			`component: handshake as sms.example.test: host-unknown; likely causes: ` +
				`the domain (sms.example.test) is not declared as a component on the server (Prosody: Component "sms.example.test"), ` +
				`or the server address is not the server's component port (Prosody answers host-unknown on its client port too)`},
	}
	for i, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		l := &Conn{Server: refuseHandshake(t, tt.streamErr), Domain: jid.MustParse("sms.example.test"), Secret: []byte("s3cret"),
			Logger: slog.New(slog.DiscardHandler), Origin: tt.origin}
		err := l.serveOnce(ctx, nil, nil)
		cancel()
		if err == nil || err.Error() != tt.want {
			t.Errorf("%d: error\n%v\nwant\n%s", i, err, tt.want)
		}
		var se stream.Error
		if !errors.As(err, &se) || restartCause(err) != "handshake" {
			t.Errorf("%d: %v is not a stream error (%v) or not a handshake restart (%s)", i, err, se, restartCause(err))
		}
	}
}

// Run logs a refused handshake with its likely causes, and retries.
func TestHandshakeRefusedLogged(t *testing.T) {
	var logb logbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &Conn{Server: refuseHandshake(t, `<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>`), Domain: jid.MustParse("sms.example.test"),
		Secret: []byte("s3cret"), Logger: slog.New(slog.NewTextHandler(&logb, nil)), Origin: Origin{Domain: "transports[0].domain", Server: "xmpp.server"},
		MinBackoff: time.Hour, MaxBackoff: time.Hour}
	l.OnRestart = func(string) { cancel() } // the line is logged after the restart is counted
	l.Run(ctx, nil, nil)
	want := `level=WARN msg="component: could not connect, retrying" server=` + l.Server + ` domain=sms.example.test cause=handshake ` +
		`err="component: handshake as sms.example.test: host-unknown; likely causes: transports[0].domain (sms.example.test) is not declared as a component on the server ` +
		`(Prosody: Component \"sms.example.test\"), or xmpp.server is not the server's component port (Prosody answers host-unknown on its client port too)"`
	if !strings.Contains(logb.String(), want) {
		t.Errorf("log\n%s\nwant a line with\n%s", logb.String(), want)
	}
}

// A refused handshake is why the component is not connected
// (ConnectError, for /readyz), without the secret, until a session comes
// up.
func TestConnectErrorUntilConnected(t *testing.T) {
	const secret = "s3cret-s3cret-s3cret"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &Conn{Server: refuseHandshake(t, `<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>`), Domain: jid.MustParse("sms.example.test"),
		Secret: []byte(secret), Logger: slog.New(slog.DiscardHandler), Origin: Origin{Secret: "transports[0].secret"},
		MinBackoff: time.Hour, MaxBackoff: time.Hour}
	if err := l.ConnectError(); err != nil {
		t.Fatalf("ConnectError before any attempt: %v", err)
	}
	l.OnRestart = func(string) { cancel() }
	l.Run(ctx, nil, nil)
	want := `component: handshake as sms.example.test: not-authorized; likely causes: transports[0].secret is not the server's secret for sms.example.test`
	if err := l.ConnectError(); err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), secret) {
		t.Errorf("ConnectError() = %v, want %s... without the secret", err, want)
	}
	s, _ := pipeSession(t, context.Background(), l)
	l.Attach(s)
	if err := l.ConnectError(); err != nil {
		t.Errorf("ConnectError() with a session up = %v, want nil", err)
	}
}
