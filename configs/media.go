package configs

import (
	"fmt"
	"strconv"
	"time"

	"xmppgw/transports"
)

// Media configures the attachments the gateway fetches for users and the
// media URLs it serves.
type Media struct {
	// FetchAllow lists what users' attachment URLs may reach although it is
	// not on the Internet (loopback, private, link-local, ... are refused by
	// default): host names ("upload.example.com", allowed whatever they
	// resolve to), IP addresses and CIDR prefixes ("10.1.2.0/24"), each on
	// the port it names ("upload.example.com:443", "[fd12::1]:443",
	// "10.1.2.0/24:443") or, without one, on every port.
	FetchAllow []string `yaml:"fetch_allow"`
	// URLTTL is how long a signed media URL works (default 720h, 30 days).
	URLTTL time.Duration `yaml:"url_ttl"`
}

// Bounds of media.url_ttl.
const (
	minMediaTTL = time.Hour
	maxMediaTTL = 366 * 24 * time.Hour
)

// validateMedia checks the media block and fills in its defaults.
func (p *parser) validateMedia(m *Media) {
	for i, s := range m.FetchAllow {
		key := "media.fetch_allow[" + strconv.Itoa(i) + "]"
		if _, _, _, err := transports.ParseFetchAllow(s); err != nil {
			p.invalid(key, fmt.Sprintf("%s %s; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), "+
				"best with the port (upload.example.com:443, 10.1.2.3:443, \"[fd12::1]:443\" with the quotes, 10.1.2.0/24:443)",
				quoteShort(p.text(key)), err))
		}
	}
	switch {
	case !p.present("media.url_ttl"):
		m.URLTTL = transports.DefaultMediaTTL
	case m.URLTTL < minMediaTTL || m.URLTTL > maxMediaTTL:
		p.invalid("media.url_ttl", "must be between 1h and 8784h (366 days; leave it out for the default, 720h)")
	}
}
