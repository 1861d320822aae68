//go:build integration

package conn

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/xmpptest"
)

// What Prosody and ejabberd answer a component whose domain is not
// declared, that dials the client port, or that has a wrong secret, and
// the causes the error names for each (docs/servers.md's table).
func TestHandshakeRefusedByServers(t *testing.T) {
	origin := Origin{Domain: "transports[0].domain", Server: "xmpp.server", Secret: "transports[0].secret"}
	const (
		hostUnknown = `; likely causes: transports[0].domain (DOMAIN) is not declared as a component on the server (Prosody: Component "DOMAIN"), ` +
			`or xmpp.server is not the server's component port (Prosody answers host-unknown on its client port too)`
		notAuthorized = `; likely causes: transports[0].secret is not the server's secret for DOMAIN (Prosody: component_secret; ejabberd: the password under the ejabberd_service listener's hosts), ` +
			`or transports[0].domain (DOMAIN) is not in that ejabberd listener's hosts (ejabberd answers not-authorized for it)`
		invalidNamespace = `; likely causes: xmpp.server is not the server's component port (ejabberd answers invalid-namespace on its client port)`
	)
	want := map[string]map[string]string{
		xmpptest.ServerProsody: {
			"undeclared":   `host-unknown ("smss.example.test does not match any configured external components")` + hostUnknown,
			"client port":  `host-unknown ("This server does not serve sms.example.test")` + hostUnknown,
			"wrong secret": `not-authorized ("Given token does not match calculated token")` + notAuthorized,
		},
		xmpptest.ServerEjabberd: {
			"undeclared":   `not-authorized` + notAuthorized,
			"client port":  `invalid-namespace` + invalidNamespace,
			"wrong secret": `not-authorized` + notAuthorized,
		},
	}
	for _, kind := range xmpptest.Servers {
		t.Run(kind, func(t *testing.T) {
			srv := xmpptest.StartServerT(t, kind, xmpptest.ServerConfig{Domain: "example.test", Components: map[string]string{"sms.example.test": "s3cret-s3cret"}})
			for _, c := range []struct{ name, server, domain, secret string }{
				{"undeclared", srv.Component(), "smss.example.test", "s3cret-s3cret"},
				{"client port", srv.C2S(), "sms.example.test", "s3cret-s3cret"},
				{"wrong secret", srv.Component(), "sms.example.test", "wrong"},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				l := &Conn{Server: c.server, Domain: jid.MustParse(c.domain), Secret: []byte(c.secret), Logger: slog.New(slog.DiscardHandler), Origin: origin}
				err := l.serveOnce(ctx, nil, nil)
				cancel()
				w := "component: handshake as " + c.domain + ": " + strings.ReplaceAll(want[kind][c.name], "DOMAIN", c.domain)
				if err == nil || err.Error() != w {
					t.Errorf("%s: error\n%v\nwant\n%s", c.name, err, w)
				}
			}
		})
	}
}
