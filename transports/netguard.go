package transports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
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
// broadcast and reserved ranges) only those media.fetch_allow names. The
// zero value is not usable; use NewFetchPolicy. It is safe for concurrent
// use.
type FetchPolicy struct {
	names    map[string]bool // host names allowed whatever they resolve to
	prefixes []netip.Prefix  // addresses allowed though denied by default
	lookup   func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ParseFetchAllow reads one media.fetch_allow entry: a host name
// ("upload.example.com"), an IP address ("10.1.2.3", "::1") or a CIDR
// prefix ("10.1.2.0/24", "fd12:3456::/48"). It returns the lower-case name
// or the prefix, whichever it is.
func ParseFetchAllow(s string) (name string, prefix netip.Prefix, err error) {
	if before, _, isPrefix := strings.Cut(s, "/"); isPrefix && !strings.Contains(s, "://") {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil && net.ParseIP(before) != nil:
			return "", netip.Prefix{}, errors.New("is not a valid CIDR prefix")
		case err != nil:
			return "", netip.Prefix{}, errors.New("is not a host name, an IP address or a CIDR prefix")
		case p.Addr().Is4In6() && p.Bits() >= 96:
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return "", p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return "", netip.Prefix{}, errors.New("must not have an IPv6 zone")
		}
		a = a.Unmap()
		return "", netip.PrefixFrom(a, a.BitLen()), nil
	}
	host := strings.ToLower(strings.TrimSuffix(s, "."))
	if !hostName(host) {
		return "", netip.Prefix{}, errors.New("is not a host name, an IP address or a CIDR prefix")
	}
	return host, netip.Prefix{}, nil
}

// hostName reports whether s is a DNS host name: dot-separated labels of
// letters, digits and hyphens, not starting or ending with a hyphen.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// NewFetchPolicy returns a policy that also allows the entries of allow
// (see ParseFetchAllow); nil allows nothing beyond the Internet.
func NewFetchPolicy(allow []string) (*FetchPolicy, error) {
	p := &FetchPolicy{names: map[string]bool{}, lookup: net.DefaultResolver.LookupNetIP}
	for _, s := range allow {
		name, prefix, err := ParseFetchAllow(s)
		if err != nil {
			return nil, fmt.Errorf("fetch_allow %q: %w", s, err)
		}
		if name != "" {
			p.names[name] = true
		} else {
			p.prefixes = append(p.prefixes, prefix)
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

// AllowedAddr reports whether the gateway may connect to a.
func (p *FetchPolicy) AllowedAddr(a netip.Addr) bool {
	if !deniedAddr(a) {
		return true
	}
	a = a.Unmap().WithZone("")
	for _, pr := range p.prefixes {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// allowedName reports whether host (a name from a URL) is allowed by name.
func (p *FetchPolicy) allowedName(host string) bool {
	return len(p.names) > 0 && p.names[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// Control is a net.Dialer Control hook: it refuses a connection to an
// address the policy does not allow. address is the resolved "ip:port".
func (p *FetchPolicy) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &notAllowedError{what: address}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !p.AllowedAddr(a) {
		return &notAllowedError{what: host}
	}
	return nil
}

// Check tells, before anything is fetched, whether rawURL may be fetched:
// an http or https URL whose host is allowed by name, or whose every
// address is allowed. A host name that does not resolve is not allowed; a
// failed lookup is returned as it is. The fetch itself is checked again at
// connect time (see Transport), as DNS may answer differently then.
func (p *FetchPolicy) Check(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return &notAllowedError{what: "a URL that is not http or https"}
	}
	host := u.Hostname()
	if p.allowedName(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.AllowedAddr(a) {
			return &notAllowedError{what: host}
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
		if !p.AllowedAddr(a) {
			return &notAllowedError{what: host + " (" + a.Unmap().String() + ")"}
		}
	}
	return nil
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
// name.
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
	if !p.allowedName(host) {
		d.Control = p.Control
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
