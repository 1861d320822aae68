package transports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests never connect anywhere but 127.0.0.1: the filter is tested
// by calling its Control hook with addresses, and host names resolve
// through a fake resolver.

func TestDeniedAddr(t *testing.T) {
	tests := []struct {
		addr   string
		denied bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"::1", true},
		{"10.0.0.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"100.64.0.1", true},      // CGNAT (RFC 6598)
		{"100.127.255.255", true}, // its last address
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true}, // ULA (RFC 4193)
		{"fd00::1", true},
		{"fdff:ffff::1", true},
		{"fec0::1", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"ff02::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"255.255.255.255", true},
		{"240.0.0.1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped forms
		{"::ffff:10.1.2.3", true},
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::a00:1", true}, // NAT64 of 10.0.0.1
		{"64:ff9b:1::1", true},
		{"198.18.0.1", true},
		{"::127.0.0.1", true},         // IPv4-compatible (deprecated)
		{"::ffff:0:7f00:1", true},     // IPv4-translated (SIIT) 127.0.0.1
		{"2002:7f00:1::", true},       // 6to4 of 127.0.0.1
		{"2002:808:808::1", true},     // 6to4 at all: a tunnel the host may have
		{"2001:0:4136:e378::1", true}, // Teredo
		{"2001:4860::8888", false},    // next to Teredo: on the Internet
		{"192.0.0.9", true},           // IETF protocol assignments (RFC 6890)
		{"192.0.1.1", false},          // past them
		{"192.0.2.10", true},          // documentation
		{"198.51.100.10", true},
		{"203.0.113.10", true},
		{"192.88.99.1", true},   // 6to4 relay
		{"2001:2::10", true},    // benchmarking
		{"2001:20::10", true},   // ORCHIDv2
		{"2001:1ff::1", true},   // the end of the IETF block
		{"2001:200::1", false},  // past it: on the Internet
		{"2001:db8::1", true},   // documentation
		{"2001:db9::1", false},  // past it
		{"3fff::10", true},      // documentation (RFC 9637)
		{"5f00::10", true},      // SRv6
		{"100::1", true},        // discard-only (RFC 6666)
		{"100:0:0:1::1", false}, // past its /64
		{"93.184.216.34", false},
		{"8.8.8.8", false},
		{"100.63.255.255", false}, // just outside CGNAT
		{"100.128.0.0", false},
		{"172.32.0.1", false},
		{"11.0.0.1", false},
		{"2606:2800:220:1::1", false},
		{"::ffff:93.184.216.34", false},
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
	}
	for i, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := deniedAddr(a); got != tt.denied {
			t.Errorf("%02d deniedAddr(%s) = %v, want %v", i, tt.addr, got, tt.denied)
		}
	}
	if !deniedAddr(netip.Addr{}) {
		t.Error("the zero Addr is not denied")
	}
	// Each prefix has an address of its own above, in no other prefix:
	// without the prefix, that address would be allowed and fail the test.
	for _, p := range deniedPrefixes {
		own := false
		for _, tt := range tests {
			a := netip.MustParseAddr(tt.addr).Unmap().WithZone("")
			n := 0
			for _, q := range deniedPrefixes {
				if q.Contains(a) {
					n++
				}
			}
			own = own || tt.denied && p.Contains(a) && n == 1
		}
		if !own {
			t.Errorf("%s has no address of its own in the table", p)
		}
	}
}

func TestParseFetchAllow(t *testing.T) {
	const notEntry = "is not a host name, an IP address or a CIDR prefix"
	const badPort = "has a bad port (want 1 to 65535)"
	tests := []struct {
		in     string
		name   string
		prefix string
		port   uint16
		err    string
	}{
		0:  {"upload.example.com", "upload.example.com", "", 0, ""},
		1:  {"Upload.Example.COM.", "upload.example.com", "", 0, ""},
		2:  {"localhost", "localhost", "", 0, ""},
		3:  {"10.1.2.3", "", "10.1.2.3/32", 0, ""},
		4:  {"10.1.2.0/24", "", "10.1.2.0/24", 0, ""},
		5:  {"10.1.2.3/24", "", "10.1.2.0/24", 0, ""},
		6:  {"::1", "", "::1/128", 0, ""},
		7:  {"fd12:3456::/48", "", "fd12:3456::/48", 0, ""},
		8:  {"::ffff:10.0.0.0/104", "", "10.0.0.0/8", 0, ""},
		9:  {"::ffff:127.0.0.1", "", "127.0.0.1/32", 0, ""},
		10: {"10.1.2.0/33", "", "", 0, "is not a valid CIDR prefix"},
		11: {"fe80::1%eth0", "", "", 0, "must not have an IPv6 zone"},
		12: {"https://upload.example.com", "", "", 0, notEntry},
		13: {"*.example.com", "", "", 0, notEntry},
		14: {"upload.example.com/x", "", "", 0, notEntry},
		15: {"-bad.example.com", "", "", 0, notEntry},
		16: {"", "", "", 0, notEntry},
		// With a port.
		17: {"upload.example.com:5281", "upload.example.com", "", 5281, ""},
		18: {"Upload.Example.com.:443", "upload.example.com", "", 443, ""},
		19: {"10.1.2.3:443", "", "10.1.2.3/32", 443, ""},
		20: {"[::1]:8443", "", "::1/128", 8443, ""},
		21: {"[::ffff:10.1.2.3]:443", "", "10.1.2.3/32", 443, ""},
		22: {"10.1.2.0/24:443", "", "10.1.2.0/24", 443, ""},
		23: {"fd12:3456::/48:443", "", "fd12:3456::/48", 443, ""},
		24: {"upload.example.com:0", "", "", 0, badPort},
		25: {"upload.example.com:65536", "", "", 0, badPort},
		26: {"upload.example.com:0443", "", "", 0, badPort},
		27: {"upload.example.com:https", "", "", 0, badPort},
		28: {"10.1.2.0/24:", "", "", 0, badPort},
		29: {"[::1]", "", "::1/128", 0, ""},
		30: {"[upload.example.com]:443", "", "", 0, notEntry},
		31: {"[10.1.2.3]:443", "", "", 0, notEntry},
		32: {"[fe80::1%eth0]:443", "", "", 0, "must not have an IPv6 zone"},
		33: {"10.1.2.0/33:443", "", "", 0, "is not a valid CIDR prefix"},
		// IPv6 without brackets whose last group could be a port.
		34: {"fd12::5:8080", "", "", 0, `is ambiguous: an IPv6 address with a port needs brackets, quoted in YAML: "[fd12::5]:8080" for port 8080 of fd12::5, or "[fd12::5:8080]" for the address fd12::5:8080 on every port`},
		35: {"::1:443", "", "", 0, `is ambiguous: an IPv6 address with a port needs brackets, quoted in YAML: "[::1]:443" for port 443 of ::1, or "[::1:443]" for the address ::1:443 on every port`},
		36: {"::ffff:10.1.2.3:443", "", "", 0, `is not an IP address: an IPv6 address with a port needs brackets, quoted in YAML: "[::ffff:10.1.2.3]:443"`},
		37: {"[fd12::5:8080]", "", "fd12::5:8080/128", 0, ""},
		38: {"[fd12::5]:8080", "", "fd12::5/128", 8080, ""},
		39: {"fd12::5:abcd", "", "fd12::5:abcd/128", 0, ""},
		40: {"fd12:0:0:0:0:0:0:5", "", "fd12::5/128", 0, ""}, // seven groups before the last are no address
		41: {"fd12::", "", "fd12::/128", 0, ""},
		42: {"[10.1.2.3]", "", "", 0, notEntry},
		43: {"[]", "", "", 0, notEntry},
	}
	for i, tt := range tests {
		name, prefix, port, err := ParseFetchAllow(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		gotPrefix := ""
		if prefix.IsValid() {
			gotPrefix = prefix.String()
		}
		if name != tt.name || gotPrefix != tt.prefix || port != tt.port || gotErr != tt.err {
			t.Errorf("%02d ParseFetchAllow(%q) = %q, %q, %d, %q; want %q, %q, %d, %q",
				i, tt.in, name, gotPrefix, port, gotErr, tt.name, tt.prefix, tt.port, tt.err)
		}
	}
}

// TestFetchPolicyControl calls the dialer hook directly, as the dialer
// would with each resolved address.
func TestFetchPolicyControl(t *testing.T) {
	def := DefaultFetchPolicy()
	allow, err := NewFetchPolicy([]string{"upload.example.com", "10.1.2.0/24", "fd12:3456::/48", "::ffff:192.168.7.7",
		"10.5.0.0/16:443", "10.6.0.1:8443", "[fd99::1]:443", "fd98::/64:443", "fd98::/64:8443"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		address   string
		def, with bool // allowed by def, by allow
	}{
		{"93.184.216.34:443", true, true},
		{"[2606:2800:220:1::1]:443", true, true},
		{"127.0.0.1:8080", false, false},
		{"[::1]:8080", false, false},
		{"[::ffff:127.0.0.1]:8080", false, false},
		{"10.1.2.7:443", false, true},
		{"[::ffff:10.1.2.7]:443", false, true},
		{"10.1.3.7:443", false, false},
		{"192.168.7.7:80", false, true},
		{"192.168.7.8:80", false, false},
		{"[fd12:3456:0:1::9]:443", false, true},
		{"[fd12:3456:1::9]:443", false, false},
		{"[fd00::1]:443", false, false},
		{"100.64.0.1:80", false, false},
		{"169.254.169.254:80", false, false},
		{"[fe80::1%eth0]:80", false, false},
		{"255.255.255.255:80", false, false},
		{"0.0.0.0:80", false, false},
		{"224.0.0.251:5353", false, false},
		{"not-an-address", false, false},
		{"upload.example.com:443", false, false}, // names are checked before, in dial
		// Entries with a port allow that port alone.
		{"10.5.3.4:443", false, true},
		{"10.5.3.4:22", false, false},
		{"[::ffff:10.5.3.4]:443", false, true},
		{"10.6.0.1:8443", false, true},
		{"10.6.0.1:443", false, false},
		{"10.6.0.2:8443", false, false},
		{"[fd99::1]:443", false, true},
		{"[fd99::1]:80", false, false},
		{"[fd98::7]:443", false, true},
		{"[fd98::7]:8443", false, true},
		{"[fd98::7]:9000", false, false},
		{"10.1.2.7:22", false, true}, // without a port: every port
	}
	for i, tt := range tests {
		for _, c := range []struct {
			name string
			p    *FetchPolicy
			want bool
		}{{"the default policy", def, tt.def}, {"fetch_allow", allow, tt.with}} {
			err := c.p.Control("tcp", tt.address, nil)
			if (err == nil) != c.want || (err != nil && !errors.Is(err, ErrNotAllowed)) {
				t.Errorf("%02d Control(%q) with %s = %v, want allowed %v", i, tt.address, c.name, err, c.want)
			}
		}
	}
}

// fakeLookup resolves names from a table; anything else does not exist.
func fakeLookup(table map[string][]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if host == "timeout.test" {
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		}
		var out []netip.Addr
		for _, s := range table[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

func TestFetchPolicyCheck(t *testing.T) {
	p, err := NewFetchPolicy([]string{"upload.example.com", "10.1.2.0/24", "files.internal:8443", "10.7.0.0/16:443", "[fd99::1]:5281"})
	if err != nil {
		t.Fatal(err)
	}
	p = p.WithLookup(fakeLookup(map[string][]string{
		"files.internal":     {"10.8.0.1"},
		"web.lan":            {"10.7.1.1"},
		"files.example.com":  {"93.184.216.34", "2606:2800:220:1::1"},
		"upload.example.com": {"10.9.9.9"},
		"internal.example":   {"10.0.0.7"},
		"lan.example":        {"10.1.2.8"},
		"mixed.example.com":  {"93.184.216.34", "127.0.0.1"},
		"rebind.example.com": {"::ffff:127.0.0.1"},
	}))
	const (
		ok = iota
		refused
		lookupFailed
	)
	tests := []struct {
		url  string
		want int
	}{
		{"https://files.example.com/a.jpg", ok},
		{"https://upload.example.com/a.jpg", ok}, // allowed by name, whatever it resolves to
		{"https://UPLOAD.example.com./a.jpg", ok},
		{"https://lan.example/a.jpg", ok},
		{"http://10.1.2.3:5280/a.jpg", ok},
		{"http://93.184.216.34/a", ok},
		{"https://internal.example/a.jpg", refused},
		{"https://mixed.example.com/a.jpg", refused},
		{"https://rebind.example.com/a.jpg", refused},
		{"https://nowhere.example/a.jpg", refused},
		{"http://127.0.0.1:8080/metrics", refused},
		{"http://[::1]/a", refused},
		{"http://[::ffff:127.0.0.1]/a", refused},
		{"http://169.254.169.254/latest/meta-data/", refused},
		{"http://10.1.3.1/a", refused},
		{"ftp://files.example.com/a", refused},
		{"file:///etc/passwd", refused},
		{"/relative", refused},
		{"https://timeout.test/a", lookupFailed},
		// Entries with a port: that port alone (a URL's default by its scheme).
		{"https://files.internal:8443/a.jpg", ok},
		{"https://FILES.internal.:8443/a.jpg", ok},
		{"https://files.internal/a.jpg", refused},
		{"http://files.internal:8080/a.jpg", refused},
		{"https://10.7.2.3/a.jpg", ok},
		{"http://10.7.2.3/a.jpg", refused},
		{"https://10.7.2.3:8443/a.jpg", refused},
		{"https://web.lan/a.jpg", ok},
		{"http://web.lan/a.jpg", refused},
		{"http://[fd99::1]:5281/a.jpg", ok},
		{"http://[fd99::1]/a.jpg", refused},
		{"https://upload.example.com:8443/a.jpg", ok}, // without a port: every port
		{"http://10.1.2.3:0/a", refused},
	}
	for i, tt := range tests {
		err := p.Check(context.Background(), tt.url)
		got := ok
		switch {
		case errors.Is(err, ErrNotAllowed):
			got = refused
		case err != nil:
			got = lookupFailed
		}
		if got != tt.want {
			t.Errorf("%02d Check(%q) = %v, want outcome %d", i, tt.url, err, tt.want)
		}
	}
}

// canary is an HTTP server on 127.0.0.1 that counts the requests it gets.
type canary struct {
	*httptest.Server
	hits atomic.Int32
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	c := &canary{}
	c.Server = serve4(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.hits.Add(1)
		fmt.Fprint(w, "secret")
	}))
	return c
}

// serve4 serves h on 127.0.0.1, not on [::1] as httptest.NewServer may
// when IPv4 is missing: the tests reach it by that address.
func serve4(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestFetchPolicyTransport fetches through the policy's transport: every way
// to reach a canary on loopback (its address, a name resolving to it, an
// IPv4-mapped form, a redirect from an allowed host) is refused before any
// request, with an error that wraps ErrNotAllowed.
func TestFetchPolicyTransport(t *testing.T) {
	c := newCanary(t)
	cu, _ := url.Parse(c.URL)
	port := cu.Port()
	// An allowed host (by name) that redirects to the canary.
	redirector := serve4(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, c.URL+"/metrics", http.StatusFound)
	}))
	ru, _ := url.Parse(redirector.URL)
	lookup := fakeLookup(map[string][]string{
		"evil.example":     {"127.0.0.1"},
		"upload.example":   {"127.0.0.1"},
		"dual.example":     {"::ffff:127.0.0.1", "127.0.0.1"},
		"public.example":   {"93.184.216.34"},
		"loopback.example": {"127.0.0.1"},
	})
	def := DefaultFetchPolicy().WithLookup(lookup)
	byName, err := NewFetchPolicy([]string{"upload.example"})
	if err != nil {
		t.Fatal(err)
	}
	byName = byName.WithLookup(lookup)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func(p *FetchPolicy, u string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: p.Transport()}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for i, u := range []string{
		c.URL + "/metrics",
		"http://evil.example:" + port + "/metrics",
		"http://dual.example:" + port + "/metrics",
		"http://[::ffff:127.0.0.1]:" + port + "/metrics",
		"http://localhost.:" + port + "/metrics", // resolved by the fake: no such host
	} {
		err := get(def, u)
		if err == nil || (i < 4 && !errors.Is(err, ErrNotAllowed)) {
			t.Errorf("%02d GET %s: %v, want refused", i, u, err)
		}
	}
	// Allowed by name, then redirected to an address that is not.
	err = get(byName, "http://upload.example:"+ru.Port()+"/file")
	if !errors.Is(err, ErrNotAllowed) {
		t.Errorf("redirect to the canary: %v, want refused", err)
	}
	// Allowed on the redirector's port alone, by address or by name: the
	// canary, on another port of the same address, is not.
	for _, allow := range []string{"127.0.0.1:" + ru.Port(), "upload.example:" + ru.Port()} {
		p, err := NewFetchPolicy([]string{allow})
		if err != nil {
			t.Fatal(err)
		}
		p = p.WithLookup(lookup)
		for _, u := range []string{"http://upload.example:" + ru.Port() + "/file", "http://127.0.0.1:" + ru.Port() + "/file",
			"http://upload.example:" + port + "/metrics", c.URL + "/metrics"} {
			if err := get(p, u); !errors.Is(err, ErrNotAllowed) {
				t.Errorf("allowing %s, GET %s: %v, want refused", allow, u, err)
			}
		}
	}
	if n := c.hits.Load(); n != 0 {
		t.Fatalf("the canary got %d requests, want 0", n)
	}

	// With 127.0.0.1 allowed, the same fetches work: what was refused was
	// the address, nothing else.
	lo, err := NewFetchPolicy([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	lo = lo.WithLookup(lookup)
	if err := get(lo, "http://loopback.example:"+port+"/x"); err != nil {
		t.Fatal(err)
	}
	if err := get(lo, "http://upload.example:"+ru.Port()+"/file"); err != nil {
		t.Fatal(err)
	}
	if n := c.hits.Load(); n != 2 {
		t.Errorf("the canary got %d requests, want 2", n)
	}
	if msg := AttachmentNotAllowed("Telegram").Error(); msg != "Telegram: this attachment's address is not allowed" ||
		AttachmentNotAllowed("x").Temporary() || strings.Contains(msg, "127.0.0.1") {
		t.Errorf("AttachmentNotAllowed: %q", msg)
	}
}
