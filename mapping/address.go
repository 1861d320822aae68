package mapping

import (
	"strings"

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
	return unescape(j.Localpart())
}

// unescapes maps the two hex digits of each XEP-0106 escape to the
// character it stands for.
var unescapes = map[string]byte{
	"20": ' ', "22": '"', "26": '&', "27": '\'', "2f": '/',
	"3a": ':', "3c": '<', "3e": '>', "40": '@', "5c": '\\',
}

// unescape undoes XEP-0106's escaping of a local part: each \XX of the
// table above becomes its character; any other backslash stays as it is.
// (mellium.im/xmpp v0.23.0's jid.Unescape reads the wrong bytes for an
// escape after the first two of its input, and can panic on one at the
// end: any sender could make it run on the read loop.)
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 <= len(s) {
			if c, ok := unescapes[strings.ToLower(s[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
