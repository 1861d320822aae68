package mapping

import (
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// A contact's address goes into a JID's local part and comes back the
// same: ContactJID escapes it per XEP-0106 and AddrOf unescapes it, for
// escapes anywhere in the address (mellium's jid.Unescape misread those
// past its first two bytes: "+4930/12345678" came back "+4930412345678",
// a number a reply would then go to).
func TestAddrOfRoundTrip(t *testing.T) {
	for _, a := range []string{
		"+15551234567", "80888", "my bank", "a b", "ab:cd", "+990.99%00/0", "x@y",
		strings.Repeat("0", 126) + " 0", strings.Repeat("a b:", 100), // mellium's jid.Escape dropped characters of long inputs
		"abc def ghi", "+4930/12345678", `back\slash`, `\20`, `a\5c20b`, `end\`, `end\2`, `"quoted" <tag> & 'it'`,
	} {
		j, err := ContactJID(transports.Addr(a), "sms.example.test")
		if err != nil {
			t.Errorf("%q: %v", a, err)
			continue
		}
		if got := AddrOf(j); got != a {
			t.Errorf("%q -> local part %q -> AddrOf %q", a, j.Localpart(), got)
		}
	}
}

// Local parts a sender writes need not come from ContactJID: AddrOf reads
// any of them, never panicking (it runs on the read loop).
func TestAddrOfAnyLocalpart(t *testing.T) {
	for _, c := range []struct{ local, want string }{
		{`abcdefgh\2f`, "abcdefgh/"},
		{`abcdefgh\2`, `abcdefgh\2`},
		{`abcdefgh\`, `abcdefgh\`},
		{`my\20bank`, "my bank"},
		{`abc\20def\20ghi`, "abc def ghi"},
		{`a\2F\3A`, "a/:"},
		{`a\zz`, `a\zz`},
		{`\5c5c`, `\5c`},
	} {
		j, err := jid.New(c.local, "sms.example.test", "")
		if err != nil {
			t.Fatalf("%q: %v", c.local, err)
		}
		if got := AddrOf(j); got != c.want {
			t.Errorf("AddrOf(%q) = %q, want %q", c.local, got, c.want)
		}
	}
}

// FuzzAddrOf: for any address that makes a contact JID, AddrOf gives an
// address of the same JID; for any local part, AddrOf returns (no panic).
func FuzzAddrOf(f *testing.F) {
	for _, s := range []string{"+4930/12345678", `abcdefgh\2f`, "My Bank", `a\5c20b`, "x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// A JID's local part is normalised (lower case, NFC): the address
		// read back makes the same JID again.
		if j, err := ContactJID(transports.Addr(s), "sms.example.test"); err == nil {
			a := AddrOf(j)
			if k, err := ContactJID(transports.Addr(a), "sms.example.test"); err != nil || !k.Equal(j) {
				t.Errorf("%q -> %s -> AddrOf %q -> %s, %v", s, j, a, k, err)
			}
		}
		if j, err := jid.New(s, "sms.example.test", ""); err == nil {
			AddrOf(j)
		}
	})
}
