package sms

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"xmppgw/mapping"
	"xmppgw/transports"
)

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in, region string
		want       transports.Addr
		err        string
	}{
		0:  {"+15551234567", "US", "+15551234567", ""},
		1:  {"+1 (555) 123-4567", "US", "+15551234567", ""},
		2:  {"555-123-4567", "US", "+15551234567", ""},
		3:  {"(555) 000.1111", "US", "+15550001111", ""},
		4:  {"+15550001111", "GB", "+15550001111", ""},
		5:  {"07700 900123", "GB", "+447700900123", ""},
		6:  {"+44 7700 900123", "US", "+447700900123", ""},
		7:  {"  +4930123456  ", "US", "+4930123456", ""},
		8:  {"12", "US", "", `sms: "12" is not a valid phone number (too short)`},
		9:  {"", "US", "", "sms: empty phone number"},
		10: {"   ", "US", "", "sms: empty phone number"},
		11: {"555-1234", "US", "", `sms: "555-1234" is not a valid phone number (area code missing)`},
		12: {"+1555123456789012", "US", "", `sms: "+1555123456789012" is not a valid phone number (too long)`},
		13: {"1-800-FLOWERS", "US", "", `sms: "1-800-FLOWERS" is not a valid phone number (unexpected 'F')`},
		14: {"+999 123 4567", "US", "", `sms: "+999 123 4567" is not a valid phone number (unknown country code)`},
		15: {"555-123-4567 x12", "US", "", `sms: "555-123-4567 x12" is not a valid phone number (unexpected 'x')`},
		16: {"5551234567", "", "", `sms: "5551234567" is not a valid phone number (unknown country code)`},
		17: {"1+5551234567", "US", "", `sms: "1+5551234567" is not a valid phone number (unexpected '+')`},
		18: {"++15551234567", "US", "", `sms: "++15551234567" is not a valid phone number (unexpected '+')`},
		19: {"---", "US", "", `sms: "---" is not a valid phone number (no digits)`},
		20: {"+1555000111122223333444455556666777788889999", "US", "", `sms: "+155500011112222333344445555666677778888..." is not a valid phone number (too long)`},
		21: {"+1 555 123 4567", "ZZ", "+15551234567", ""},
		22: {"0000000000", "BA", "", `sms: "0000000000" is not a valid phone number`}, // unstable in phonenumbers
		23: {"+4910000000000000", "US", "", `sms: "+4910000000000000" is not a valid phone number (too long)`},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := ParseNumber(tc.in, tc.region)
			errStr := ""
			if err != nil {
				errStr = err.Error()
			}
			if got != tc.want || errStr != tc.err {
				t.Errorf("ParseNumber(%q, %q) = %q, %q; want %q, %q", tc.in, tc.region, got, errStr, tc.want, tc.err)
			}
		})
	}
}

func TestParseAddrUsesRegion(t *testing.T) {
	tr := newTestTransport(t, "https://api.twilio.com", "")
	if got, err := tr.ParseAddr("555-123-4567"); got != "+15551234567" || err != nil {
		t.Errorf("ParseAddr = %q, %v", got, err)
	}
}

// A string of 3 to 8 digits without "+" is a short code both ways: an
// SMS from 80888 arrives from 80888@sms..., and a reply to that JID goes
// to the short code 80888, whatever default_region says (with DE it was
// read as the national number +4980888, a stranger's). Longer digit
// strings are national numbers of default_region, as before; a national
// number of up to 8 digits needs its "+".
func TestParseAddrShortCode(t *testing.T) {
	cases := []struct {
		region, in string
		want       transports.Addr // "" for an error
	}{
		{"DE", "80888", "80888"},
		{"US", "80888", "80888"},
		{"NL", "123", "123"},
		{"AT", "12345678", "12345678"},
		{"DK", "12345678", "12345678"}, // not +4512345678: that needs its "+"
		{"DK", "+4512345678", "+4512345678"},
		{"DE", "+4980888", "+4980888"},
		{"DE", "030123456", "+4930123456"}, // 9 digits: a national number
		{"US", "5551234567", "+15551234567"},
		{"US", "12", ""},
		{"US", "808 88", ""},    // not digits alone: neither a short code nor a number
		{"DE", "808-88", ""},    // not +4980888
		{"US", "123456789", ""}, // 9 digits: a national number, and not a possible one
	}
	for _, tc := range cases {
		tr, err := New(transports.Params{Name: "sms", Domain: "sms.example.test"}, &Settings{
			AccountSID: testSID, AuthToken: testToken, APIURL: "https://api.twilio.com",
			DefaultRegion: tc.region, Numbers: map[string]string{"alice@example.test": "+4915112345678"},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.ParseAddr(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("%s: ParseAddr(%q) = %q, %v; want %q", tc.region, tc.in, got, err, tc.want)
		}
		if err == nil {
			if again, err := tr.ParseAddr(string(got)); again != got || err != nil {
				t.Errorf("%s: ParseAddr(%q) = %q, %v; not a fixed point", tc.region, got, again, err)
			}
		}
	}
}

// FuzzParseAddr checks that ParseNumber never panics and that what it accepts
// is a fixed point in E.164 form; and that what ParseAddr accepts is a
// fixed point whose contact JID is no team inbox room's and reads back,
// case-folded, as the same address.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"+15551234567", "+1 (555) 123-4567", "555-123-4567", "12", "07700 900123",
		"+44 7700 900123", "+800 1234 5678", "+39 06 1234 5678", "+", "(", "0", "+0", "+9999999999999999",
		"80888", "#MyBank", "#my bank", "#on.call", "#"} {
		f.Add(s, "US")
		f.Add(s, "GB")
	}
	f.Add("06 1234 5678", "IT")
	f.Add("030 123456", "DE")
	tr := newTestTransport(f, "https://api.twilio.com", "")
	f.Fuzz(func(t *testing.T, s, region string) {
		if a, err := tr.ParseAddr(s); err == nil {
			if again, err := tr.ParseAddr(string(a)); err != nil || again != a {
				t.Fatalf("ParseAddr(%q) = %q, but ParseAddr(%q) = %q, %v", s, a, a, again, err)
			}
			j, err := mapping.ContactJID(a, "sms.example.test")
			if err != nil {
				t.Fatalf("ParseAddr(%q) = %q, which makes no JID: %v", s, a, err)
			}
			if roomName.MatchString(j.Localpart()) {
				t.Fatalf("ParseAddr(%q) = %q, whose JID %s is a room's", s, a, j)
			}
			if back, err := tr.ParseAddr(mapping.AddrOf(j)); err != nil || back != a {
				t.Fatalf("ParseAddr(%q) = %q, but its JID %s reads back as %q, %v", s, a, j, back, err)
			}
		}
		got, err := ParseNumber(s, region)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseNumber(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if len(got) < 3 || got[0] != '+' || len(got) > 16 {
			t.Fatalf("ParseNumber(%q, %q) = %q, not E.164", s, region, got)
		}
		for _, r := range got[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("ParseNumber(%q, %q) = %q, not E.164", s, region, got)
			}
		}
		for _, reg := range []string{region, "US", ""} {
			again, err := ParseNumber(string(got), reg)
			if err != nil || again != got {
				t.Fatalf("ParseNumber(%q, %q) = %q, but re-parsing with %q gives %q, %v", s, region, got, reg, again, err)
			}
		}
	})
}

// Inputs too long to be numbers are refused without being kept: the
// cache's size in bytes stays bounded whatever users send.
func TestNumberCacheKeepsOnlyShortInputs(t *testing.T) {
	var c numberCache
	for i := range 100 {
		if _, err := c.parse(strings.Repeat("9", 60_000)+strconv.Itoa(i), "US"); err == nil {
			t.Fatal("a 60,000-digit input was taken for a number")
		}
	}
	if _, err := c.parse("+15551234567", "US"); err != nil {
		t.Fatal(err)
	}
	keys := 0
	for k := range c.m {
		keys += len(k)
	}
	if len(c.m) != 1 || keys > maxNumberLen {
		t.Errorf("the cache keeps %d inputs of %d bytes, want the one number", len(c.m), keys)
	}
}

// A short code configured as a user's or an inbox's number follows
// ParseAddr's rule (3 to 8 digits alone are a short code, whatever the
// default region): an SMS to it, To=80888, reaches its owner (with DE it
// was read as +4980888, and SMS to the short code reached nobody).
func TestConfiguredShortCodeMatchesInboundTo(t *testing.T) {
	tr, err := New(transports.Params{Name: "sms", Domain: "sms.example.test", PublicURL: "https://gw.example/hooks/sms"}, &Settings{
		AccountSID: testSID, AuthToken: testToken, DefaultRegion: "DE",
		Numbers: map[string]string{"alice@example.test": "80888"},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	inboundTo, err := tr.ParseAddr("80888")
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Accounts()["alice@example.test"]; got != inboundTo || got != "80888" {
		t.Errorf("numbers: alice: 80888 (default_region DE) is %q; an SMS to it is for %q", got, inboundTo)
	}
	s := &Settings{AccountSID: testSID, AuthToken: testToken, DefaultRegion: "DE",
		Numbers: map[string]string{"alice@example.test": "808-88"}}
	if probs := s.Validate(); len(probs) != 1 || !strings.Contains(fmt.Sprint(probs), "a short code is written as its digits alone") {
		t.Errorf("numbers: 808-88: %v, want refused as neither a short code nor a phone number", probs)
	}
}
