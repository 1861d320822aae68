package conn

import (
	"errors"
	"fmt"
	"strings"

	"mellium.im/xmpp/stream"
)

// Origin names, in the operator's words (config keys such as
// "transports[0].domain"), where a Conn's Domain, Server and Secret were
// set. An empty name is said in generic words.
type Origin struct {
	Domain, Server, Secret string
}

// handshakeError is err, a handshake that failed, with the server's own
// text, if it sent one, and the likely causes of its stream error: each
// condition is what the servers seen answer for a misconfiguration
// (docs/servers.md has the table).
func (l *Conn) handshakeError(err error) error {
	var se stream.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("component: handshake as %s: %w", l.Domain, err)
	}
	var detail strings.Builder
	for _, t := range se.Text {
		if t.Value != "" {
			fmt.Fprintf(&detail, " (%q)", t.Value)
			break
		}
	}
	if causes := l.Origin.causes(se.Err, l.Domain.String()); causes != "" {
		detail.WriteString("; likely causes: " + causes)
	}
	return fmt.Errorf("component: handshake as %s: %w%s", l.Domain, err, detail.String())
}

// causes returns the likely causes of the stream error condition for a
// component handshake as domain, or "".
func (o Origin) causes(condition, domain string) string {
	name := func(key, generic string) string {
		if key == "" {
			return generic
		}
		return key
	}
	dom := name(o.Domain, "the domain")
	srv := name(o.Server, "the server address")
	secret := name(o.Secret, "the secret")
	switch condition {
	case "host-unknown":
		return fmt.Sprintf("%s (%s) is not declared as a component on the server (Prosody: Component %q), "+
			"or %s is not the server's component port (Prosody answers host-unknown on its client port too)", dom, domain, domain, srv)
	case "not-authorized":
		return fmt.Sprintf("%s is not the server's secret for %s (Prosody: component_secret; ejabberd: the password under the ejabberd_service listener's hosts), "+
			"or %s (%s) is not in that ejabberd listener's hosts (ejabberd answers not-authorized for it)", secret, domain, dom, domain)
	case "invalid-namespace":
		return fmt.Sprintf("%s is not the server's component port (ejabberd answers invalid-namespace on its client port)", srv)
	case "conflict":
		return fmt.Sprintf("another connection holds %s (a second gateway with this domain?), "+
			"or %s (%s) is one of the server's own hosts (a VirtualHost), not a component", domain, dom, domain)
	}
	return ""
}
