package mapping

import (
	"strconv"
	"strings"

	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// ContactJID returns the JID of the remote contact addr on the gateway
// domain, escaping the address per XEP-0106 where needed.
func ContactJID(addr transports.Addr, domain string) (jid.JID, error) {
	return jid.New(escape(string(addr)), domain, "")
}

// escape escapes s per XEP-0106 for a JID's local part: each character of
// the table below as \XX, and a backslash as \5c where an escape follows
// it (elsewhere it stays). (mellium.im/xmpp v0.23.0's jid.Escape drops
// characters of long inputs.)
func escape(s string) string {
	if !strings.ContainsAny(s, ` "&'/:<>@\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && isEscape(s[i+1:]):
			b.WriteString(`\5c`)
		case strings.IndexByte(` "&'/:<>@`, c) >= 0:
			b.WriteByte('\\')
			b.WriteString(strconv.FormatUint(uint64(c), 16))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isEscape reports whether s begins with the two hex digits of an escape.
func isEscape(s string) bool {
	if len(s) < 2 {
		return false
	}
	_, ok := unescapes[strings.ToLower(s[:2])]
	return ok
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
		if s[i] == '\\' && isEscape(s[i+1:]) {
			b.WriteByte(unescapes[strings.ToLower(s[i+1:i+3])])
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
