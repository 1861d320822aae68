package transports

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// lookupHost resolves a host name; replaceable in tests.
var lookupHost = net.DefaultResolver.LookupNetIP

// IsPublicURL reports whether raw is an http or https URL that a provider on
// the Internet could fetch: its host is an IP address, or a name all of whose
// addresses are, that a FetchPolicy does not refuse by default (see
// deniedPrefixes). A name that does not resolve (within ctx) is not public.
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

// publicAddr reports whether a provider on the Internet could reach a:
// it is none of the addresses a FetchPolicy refuses by default.
func publicAddr(a netip.Addr) bool { return !deniedAddr(a) }
