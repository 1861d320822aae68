package component

import (
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// The cache answers as jid.Parse does, keeps only what parses, and stays
// within its bound.
func TestJIDCache(t *testing.T) {
	var c jidCache
	for _, s := range []string{"Alice@Example.COM/phone", "+15551234567@sms.example.test", "example.test", "bad@", "a@b@c", ""} {
		for range 2 {
			got, err := c.parse(s)
			want, werr := jid.Parse(s)
			if (err == nil) != (werr == nil) || err == nil && got.String() != want.String() {
				t.Errorf("parse(%q) = %q, %v; jid.Parse gives %q, %v", s, got, err, want, werr)
			}
		}
	}
	for _, raw := range []string{"Alice@Example.COM/phone", "example.test"} {
		j, _ := jid.Parse(raw)
		full, bare := c.strings(raw, j)
		if full != j.String() || bare != j.Bare().String() {
			t.Errorf("strings(%q) = %q, %q", raw, full, bare)
		}
		// Another JID than the one cached for raw: its own strings.
		other := jid.MustParse("bob@example.test/x")
		if full, bare := c.strings(raw, other); full != "bob@example.test/x" || bare != "bob@example.test" {
			t.Errorf("strings(%q, bob) = %q, %q", raw, full, bare)
		}
	}
	if _, ok := c.m["bad@"]; ok {
		t.Error("a JID that does not parse was kept")
	}
	long := strings.Repeat("a", maxCachedLen) + "@example.test"
	if j, err := c.parse(long); err != nil || j.String() != long {
		t.Errorf("parse(long) = %q, %v", j, err)
	}
	if _, ok := c.m[long]; ok {
		t.Error("a JID longer than maxCachedLen was kept")
	}
	for i := range 3 * maxJIDs {
		s := fmt.Sprintf("u%d@example.test", i)
		if j, err := c.parse(s); err != nil || j.String() != s {
			t.Fatalf("parse(%q) = %q, %v", s, j, err)
		}
		if len(c.m) > maxJIDs {
			t.Fatalf("%d JIDs kept, more than %d", len(c.m), maxJIDs)
		}
	}
}

// A contact's JID is mapping.ContactJID's, escaped where needed, the same
// when asked again.
func TestContactJIDCached(t *testing.T) {
	g := &Gateway{domain: jid.MustParse("sms.example.test")}
	for _, addr := range []transports.Addr{"+15551234567", "a b@c", "+15551234567"} {
		want, werr := mapping.ContactJID(addr, "sms.example.test")
		got, err := g.contactJID(addr)
		if (err == nil) != (werr == nil) || got.String() != want.String() {
			t.Errorf("contactJID(%q) = %q, %v; want %q, %v", addr, got, err, want, werr)
		}
	}
	if n := len(g.contactJIDs.m); n != 2 {
		t.Errorf("%d contacts kept, want 2", n)
	}
}
