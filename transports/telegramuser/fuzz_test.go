package telegramuser

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzUserInput: what users type (a contact JID's local part, a phone
// number in the login form, the id of a message to correct or react to)
// is refused, or read into exactly what the transport then sends.
func FuzzUserInput(f *testing.F) {
	for _, s := range []string{"123456789", "-5000001", "0", "+1 555 000-1111", "1000001:42", "1000001:-1", "", "--5", "1000001:", "1000001:+7", "1000001:007", "-1001500000001", "-1000000000000", "1000001:c1500000001:3", "1000001:c:3", "1000001:c01:3", "1000001:c1:-3"} {
		f.Add(s)
	}
	tr := &Transport{}
	a := &account{}
	a.self.Store(1000001)
	f.Fuzz(func(t *testing.T, s string) {
		if addr, err := tr.ParseAddr(s); err == nil {
			p, perr := parsePeer(addr)
			again, aerr := tr.ParseAddr(string(addr))
			switch {
			case perr != nil || aerr != nil || again != addr:
				t.Fatalf("ParseAddr(%q) = %q, which does not read back (%v, %v, %q)", s, addr, perr, aerr, again)
			case count(p.user != 0, p.chat != 0, p.channel != 0) != 1 || p.user < 0 || p.chat < 0 || p.channel < 0:
				t.Fatalf("ParseAddr(%q) = %q names no single peer: %+v", s, addr, p)
			}
		} else if err.Error() == "" {
			t.Fatalf("ParseAddr(%q): an error that says nothing", s)
		}
		if phone, err := parsePhone(s); err == nil {
			digits := strings.TrimPrefix(phone, "+")
			if _, perr := strconv.ParseUint(digits, 10, 64); perr != nil || len(digits) < 7 || len(digits) > 15 || phone[0] != '+' {
				t.Fatalf("parsePhone(%q) = %q", s, phone)
			}
		}
		if r, ok := a.boxID(s); ok && (r.id <= 0 || r.channel < 0 || a.msgID(r) != s) {
			t.Fatalf("boxID(%q) = %+v, which is not that message", s, r)
		}
	})
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
