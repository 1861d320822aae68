package mapping

import (
	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// ContactJID returns the JID of the remote contact addr on the gateway
// domain, escaping the address per XEP-0106 where needed.
func ContactJID(addr transports.Addr, domain string) (jid.JID, error) {
	return jid.New(jid.Escape.String(string(addr)), domain, "")
}

// AddrOf returns the foreign address written in j's local part, unescaped.
// It does not validate it: that is the transport's ParseAddr.
func AddrOf(j jid.JID) string {
	return jid.Unescape.String(j.Localpart())
}
