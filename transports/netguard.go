package transports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The gateway fetches URLs that users give (attachments on their XMPP
// server's upload service) and hands some on to providers through its own
// media endpoints. A FetchPolicy keeps those fetches out of the gateway's
// own network: it is checked on the resolved address of every connection
// (a net.Dialer Control hook), so neither a DNS name nor a redirect can get
// around it.

// deniedPrefixes are the addresses no user's URL may reach unless
// media.fetch_allow allows them: everything that is not a unicast address
// on the Internet. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are
// unmapped and checked as IPv4.
var deniedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", unspecified (RFC 1122)
		"10.0.0.0/8",      // private (RFC 1918)
		"100.64.0.0/10",   // carrier-grade NAT (RFC 6598)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata services
		"172.16.0.0/12",   // private (RFC 1918)
		"192.0.0.0/24",    // IETF protocol assignments (RFC 6890)
		"192.0.2.0/24",    // documentation (TEST-NET-1, RFC 5737)
		"192.88.99.0/24",  // 6to4 relay anycast (deprecated, RFC 7526)
		"192.168.0.0/16",  // private (RFC 1918)
		"198.18.0.0/15",   // benchmarking (RFC 2544)
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and broadcast 255.255.255.255
		"::/96",           // unspecified, loopback, IPv4-compatible (deprecated, RFC 4291)
		"::ffff:0:0:0/96", // IPv4-translated (SIIT, RFC 2765)
		"2002::/16",       // 6to4 (deprecated, RFC 7526): routes to the IPv4 address it holds
		"2001::/23",       // IETF protocol assignments: Teredo (tunnels to an IPv4 address), benchmarking, ORCHID...
		"64:ff9b:1::/48",  // local-use NAT64 (RFC 8215)
		"fc00::/7",        // unique local addresses (RFC 4193)
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated, still private)
		"ff00::/8",        // multicast
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation (RFC 9637)
		"5f00::/16",       // SRv6 segment identifiers (RFC 9602)
		"100::/64",        // discard-only (RFC 6666)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits, which is checked in turn.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// deniedAddr reports whether a is refused by default.
func deniedAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.Unmap().WithZone("")
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range deniedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// NotAllowedText is all a user is told about a refused attachment: no host,
// port or network error, which would let users map the gateway's network.
const NotAllowedText = "this attachment's address is not allowed"

// ErrNotAllowed is wrapped by every error of a connection or URL that a
// FetchPolicy refuses.
var ErrNotAllowed = errors.New("address not allowed")

// notAllowedError says which address was refused, for the gateway's log;
// users get NotAllowedText instead (see AttachmentNotAllowed).
type notAllowedError struct{ what string }

func (e *notAllowedError) Error() string {
	return "transports: refusing to fetch from " + e.what + ": not allowed by media.fetch_allow"
}

func (e *notAllowedError) Unwrap() error { return ErrNotAllowed }

// AttachmentNotAllowed is the error Send returns for an attachment whose
// URL a FetchPolicy refuses: permanent, classified KindNotAllowed, with
// NotAllowedText as its only message.
func AttachmentNotAllowed(provider string) *Error {
	return &Error{Kind: KindNotAllowed, Provider: provider, Message: NotAllowedText}
}

// Limits of a FetchPolicy's connections. Callers bound the whole fetch
// (its context) and the size they read.
const (
	fetchDialTimeout   = 10 * time.Second
	fetchHeaderTimeout = 30 * time.Second
	fetchMaxHeader     = 64 << 10
)

// FetchPolicy decides which addresses the gateway may fetch users' URLs
// from: any address on the Internet, and of the rest (loopback, private,
// unique local, carrier-grade NAT, link-local, multicast, unspecified,
// broadcast and reserved ranges) only those media.fetch_allow names, on
// the port it names or, without one, on every port. The zero value is not
// usable; use NewFetchPolicy. It is safe for concurrent use.
type FetchPolicy struct {
	names    map[string][]uint16 // host names allowed whatever they resolve to, on these ports (anyPort: all)
	prefixes []allowedPrefix     // addresses allowed though denied by default
	lookup   func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// anyPort in a media.fetch_allow entry: it names no port, so every port is
// allowed.
const anyPort = 0

// allowedPrefix is a prefix media.fetch_allow allows, on one port or all.
type allowedPrefix struct {
	prefix netip.Prefix
	port   uint16 // anyPort: every port
}

func (a allowedPrefix) allows(addr netip.Addr, port uint16) bool {
	return a.prefix.Contains(addr) && (a.port == anyPort || a.port == port)
}

// errNotAllowEntry is ParseFetchAllow's error for what is no entry at all.
var errNotAllowEntry = errors.New("is not a host name, an IP address or a CIDR prefix")

// ParseFetchAllow reads one media.fetch_allow entry: a host name
// ("upload.example.com"), an IP address ("10.1.2.3", "::1") or a CIDR
// prefix ("10.1.2.0/24", "fd12:3456::/48"), each of which may name a port:
// "upload.example.com:5281", "10.1.2.3:443", "[::1]:443" (an IPv6
// address in brackets), "10.1.2.0/24:443" and "fd12:3456::/48:443" (the
// port after the prefix length). "[fd12::1]" is an IPv6 address alone;
// one without brackets whose last group is all digits ("fd12::5:8080")
// could be an address with a port, and is refused. It returns the
// lower-case name or the prefix, whichever it is, and the port (anyPort,
// 0, if none is named: every port).
func ParseFetchAllow(s string) (name string, prefix netip.Prefix, port uint16, err error) {
	if strings.Contains(s, "://") {
		return "", netip.Prefix{}, 0, errNotAllowEntry
	}
	if before, bits, isPrefix := strings.Cut(s, "/"); isPrefix {
		if b, ps, hasPort := strings.Cut(bits, ":"); hasPort {
			if port, err = parsePort(ps); err != nil {
				return "", netip.Prefix{}, 0, err
			}
			bits = b
		}
		p, err := netip.ParsePrefix(before + "/" + bits)
		switch {
		case err != nil && net.ParseIP(before) != nil:
			return "", netip.Prefix{}, 0, errors.New("is not a valid CIDR prefix")
		case err != nil:
			return "", netip.Prefix{}, 0, errNotAllowEntry
		case p.Addr().Is4In6() && p.Bits() >= 96:
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return "", p.Masked(), port, nil
	}
	host := s
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		// [v6]: every port.
		if host = s[1 : len(s)-1]; !strings.Contains(host, ":") {
			return "", netip.Prefix{}, 0, errNotAllowEntry
		}
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		// [v6]:port, v4:port or name:port.
		h, ps, err := net.SplitHostPort(s)
		if err != nil || (strings.HasPrefix(s, "[") && !strings.Contains(h, ":")) {
			return "", netip.Prefix{}, 0, errNotAllowEntry
		}
		if port, err = parsePort(ps); err != nil {
			return "", netip.Prefix{}, 0, err
		}
		host = h
	default:
		if err := portLikeTail(s); err != nil {
			return "", netip.Prefix{}, 0, err
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", netip.Prefix{}, 0, errors.New("must not have an IPv6 zone")
		}
		a = a.Unmap()
		return "", netip.PrefixFrom(a, a.BitLen()), port, nil
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !HostName(host) {
		return "", netip.Prefix{}, 0, errNotAllowEntry
	}
	return host, netip.Prefix{}, port, nil
}

// portLikeTail refuses an IPv6 address written without brackets whose
// last group is all decimal digits after another address: a port, or
// part of the address? ("fd12::5:8080" is the address fd12::5:8080, or
// port 8080 of fd12::5). The error says how to write either.
func portLikeTail(s string) error {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return nil
	}
	addr, tail := s[:i], s[i+1:]
	if tail == "" || strings.Trim(tail, "0123456789") != "" || !strings.Contains(addr, ":") {
		return nil
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		return nil
	}
	withPort := fmt.Sprintf(`an IPv6 address with a port needs brackets, quoted in YAML: "[%s]:%s"`, addr, tail)
	if _, err := netip.ParseAddr(s); err != nil {
		return errors.New("is not an IP address: " + withPort)
	}
	return fmt.Errorf(`is ambiguous: %s for port %s of %s, or "[%s]" for the address %s on every port`, withPort, tail, addr, s, s)
}

// parsePort reads a port of a media.fetch_allow entry: 1 to 65535, in
// decimal without leading zeros.
func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, errors.New("has a bad port (want 1 to 65535)")
	}
	return uint16(n), nil
}

// HostName reports whether s is a DNS host name: dot-separated labels of
// letters, digits, hyphens and underscores, not starting or ending with a
// hyphen, in any case, with or without a final dot.
func HostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// NewFetchPolicy returns a policy that also allows the entries of allow
// (see ParseFetchAllow); nil allows nothing beyond the Internet.
func NewFetchPolicy(allow []string) (*FetchPolicy, error) {
	p := &FetchPolicy{names: map[string][]uint16{}, lookup: net.DefaultResolver.LookupNetIP}
	for _, s := range allow {
		name, prefix, port, err := ParseFetchAllow(s)
		if err != nil {
			return nil, fmt.Errorf("fetch_allow %q: %w", s, err)
		}
		if name != "" {
			p.names[name] = append(p.names[name], port)
		} else {
			p.prefixes = append(p.prefixes, allowedPrefix{prefix, port})
		}
	}
	return p, nil
}

// DefaultFetchPolicy allows no address beyond the Internet.
func DefaultFetchPolicy() *FetchPolicy {
	p, _ := NewFetchPolicy(nil)
	return p
}

// WithLookup returns a copy of p that resolves host names with lookup (as
// net.Resolver.LookupNetIP) instead of the system's resolver: for tests,
// which must not ask real DNS servers.
func (p *FetchPolicy) WithLookup(lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)) *FetchPolicy {
	cp := *p
	cp.lookup = lookup
	return &cp
}

// AllowedAddr reports whether the gateway may connect to a on port.
func (p *FetchPolicy) AllowedAddr(a netip.Addr, port uint16) bool {
	if !deniedAddr(a) {
		return true
	}
	a = a.Unmap().WithZone("")
	for _, pr := range p.prefixes {
		if pr.allows(a, port) {
			return true
		}
	}
	return false
}

// allowedName reports whether host (a name from a URL) is allowed by name
// on port.
func (p *FetchPolicy) allowedName(host string, port uint16) bool {
	ports, ok := p.names[strings.ToLower(strings.TrimSuffix(host, "."))]
	return ok && (slices.Contains(ports, anyPort) || slices.Contains(ports, port))
}

// Control is a net.Dialer Control hook: it refuses a connection to an
// address and port the policy does not allow. address is the resolved
// "ip:port".
func (p *FetchPolicy) Control(_, address string, _ syscall.RawConn) error {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return &notAllowedError{what: address}
	}
	a, err := netip.ParseAddr(host)
	port, perr := strconv.ParseUint(ps, 10, 16)
	if err != nil || perr != nil || !p.AllowedAddr(a, uint16(port)) {
		return &notAllowedError{what: address}
	}
	return nil
}

// Check tells, before anything is fetched, whether rawURL may be fetched:
// an http or https URL whose host is allowed by name on its port, or whose
// every address is allowed on it. A host name that does not resolve is not
// allowed; a failed lookup is returned as it is. The fetch itself is
// checked again at connect time (see Transport), as DNS may answer
// differently then.
func (p *FetchPolicy) Check(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return &notAllowedError{what: "a URL that is not http or https"}
	}
	host := u.Hostname()
	port, ok := urlPort(u)
	if !ok {
		return &notAllowedError{what: u.Host + " (bad port)"}
	}
	if p.allowedName(host, port) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.AllowedAddr(a, port) {
			return &notAllowedError{what: u.Host}
		}
		return nil
	}
	addrs, err := p.lookup(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound, err == nil && len(addrs) == 0:
		return &notAllowedError{what: host + " (no address)"}
	case err != nil:
		return fmt.Errorf("transports: looking up %s: %w", host, err)
	}
	for _, a := range addrs {
		if !p.AllowedAddr(a, port) {
			return &notAllowedError{what: u.Host + " (" + a.Unmap().String() + ")"}
		}
	}
	return nil
}

// urlPort is the port u names, or its scheme's (80, 443).
func urlPort(u *url.URL) (uint16, bool) {
	ps := u.Port()
	if ps == "" {
		if u.Scheme == "https" {
			return 443, true
		}
		return 80, true
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	return uint16(n), err == nil && n != 0
}

// Transport returns an http.RoundTripper for fetching users' URLs under
// the policy: no proxy (it would fetch for us, from anywhere), host names
// resolved by the policy's resolver, and every connection checked by
// Control on its resolved address, redirects included. A refused
// connection fails with an error that wraps ErrNotAllowed. Connections and
// response headers are bounded in time; callers bound the body.
func (p *FetchPolicy) Transport() http.RoundTripper {
	t := HTTPTransport().(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.dial
	t.DialTLSContext = nil
	t.ResponseHeaderTimeout = fetchHeaderTimeout
	t.MaxResponseHeaderBytes = fetchMaxHeader
	t.MaxIdleConnsPerHost = 4
	return t
}

// dial resolves addr's host with the policy's resolver and connects to its
// addresses in turn, each checked by Control unless the host is allowed by
// name on addr's port.
func (p *FetchPolicy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("transports: bad port in %q", addr)
	}
	d := &net.Dialer{Timeout: fetchDialTimeout, KeepAlive: 30 * time.Second}
	if !p.allowedName(host, uint16(port)) {
		d.Control = p.Control // checks the address and the port dialled
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = p.lookup(ctx, "ip", host); err != nil {
		return nil, err
	}
	var refused, failed error
	for _, a := range addrs {
		a = a.Unmap()
		if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
			continue
		}
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, ErrNotAllowed):
			refused = firstErr(refused, err)
		default:
			failed = firstErr(failed, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	// An allowed address that failed says more than the refused ones.
	switch {
	case failed != nil:
		return nil, failed
	case refused != nil:
		return nil, refused
	}
	return nil, &net.AddrError{Err: "no suitable address", Addr: host}
}

// firstErr returns the first non-nil error.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
