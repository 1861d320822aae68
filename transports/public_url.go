package transports

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// lookupHost resolves a host name; replaceable in tests.
var lookupHost = net.DefaultResolver.LookupNetIP

// IsPublicURL reports whether raw is an http or https URL that a provider on
// the Internet could fetch: its host is an IP address, or a name all of whose
// addresses are, that is not loopback, private, link-local, unspecified or
// multicast. A name that does not resolve (within ctx) is not public.
func IsPublicURL(ctx context.Context, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return false
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return publicAddr(ip)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	addrs, err := lookupHost(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !publicAddr(a) {
			return false
		}
	}
	return true
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	ip := net.IP(a.AsSlice())
	return a.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsUnspecified() && !ip.IsMulticast() && !cgnat.Contains(a)
}

// FetchTransport returns an http.RoundTripper for fetching URLs that users
// give (attachments on their own servers, which may be private): like
// HTTPTransport, but it never connects to link-local, unspecified or
// multicast addresses, so a user cannot make the gateway read a cloud
// metadata service (169.254.169.254) and send the answer on.
func FetchTransport() http.RoundTripper {
	t := HTTPTransport().(*http.Transport).Clone()
	t.Proxy = nil // the URLs fetched are private ones: a proxy would fetch for us
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: refuseLinkLocal}
	t.DialContext = d.DialContext
	return t
}

// refuseLinkLocal is a net.Dialer Control that refuses the addresses
// FetchTransport must not reach.
func refuseLinkLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("transports: refusing to fetch from %s (link-local, unspecified or multicast)", host)
	}
	return nil
}
