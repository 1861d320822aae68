package configs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withMedia is base with a media block; line 17 is "media:".
func withMedia(block string) string { return base + "media:\n" + block }

func TestMediaProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		0: {"bad entries", withMedia(`  fetch_allow:
    - upload.example.com
    - https://upload.example.com
    - 10.1.2.0/33
    - upload.example.com:99999
    - "*.example.com"
    - [10.0.0.1]
    - fe80::1%eth0
    - fd12::5:8080
`), []string{
			`gw.yaml:20: media.fetch_allow[1]: "https://upload.example.com" is not a host name, an IP address or a CIDR prefix; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
			`gw.yaml:21: media.fetch_allow[2]: "10.1.2.0/33" is not a valid CIDR prefix; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
			`gw.yaml:22: media.fetch_allow[3]: "upload.example.com:99999" has a bad port (want 1 to 65535); write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
			`gw.yaml:23: media.fetch_allow[4]: "*.example.com" is not a host name, an IP address or a CIDR prefix; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
			`gw.yaml:24: media.fetch_allow[5]: expected a string, got a list`,
			`gw.yaml:25: media.fetch_allow[6]: "fe80::1%eth0" must not have an IPv6 zone; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
			`gw.yaml:26: media.fetch_allow[7]: "fd12::5:8080" is ambiguous: an IPv6 address with a port needs brackets, quoted in YAML: "[fd12::5]:8080" for port 8080 of fd12::5, or "[fd12::5:8080]" for the address fd12::5:8080 on every port; write a host name (upload.example.com), an IP address (10.1.2.3) or a CIDR prefix (10.1.2.0/24), best with the port (upload.example.com:443, 10.1.2.3:443, "[fd12::1]:443" with the quotes, 10.1.2.0/24:443)`,
		}},
		1: {"ttl too short", withMedia("  url_ttl: 10m\n"), []string{
			`gw.yaml:18: media.url_ttl: must be between 1h and 8784h (366 days; leave it out for the default, 720h)`,
		}},
		2: {"ttl too long", withMedia("  url_ttl: 9000h\n"), []string{
			`gw.yaml:18: media.url_ttl: must be between 1h and 8784h (366 days; leave it out for the default, 720h)`,
		}},
		3: {"ttl not a duration", withMedia("  url_ttl: 30 days\n"), []string{
			`gw.yaml:18: media.url_ttl: expected a duration such as 30s, got "30 days"`,
		}},
		4: {"fetch_allow not a list, unknown key", withMedia("  fetch_allow: upload.example.com\n  allow: [x]\n"), []string{
			`gw.yaml:18: media.fetch_allow: expected a list, got "upload.example.com"`,
			`gw.yaml:19: media: unknown key "allow"`,
		}},
		5: {"ttl zero: only an absent url_ttl takes the default", withMedia("  url_ttl: 0s\n"), []string{
			`gw.yaml:18: media.url_ttl: must be between 1h and 8784h (366 days; leave it out for the default, 720h)`,
		}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.name), func(t *testing.T) {
			_, err := Parse("gw.yaml", []byte(tt.yaml), lookupTestEnv)
			got := problemsOf(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestMediaValid(t *testing.T) {
	tests := []struct {
		yaml string
		want Media
	}{
		0: {base, Media{URLTTL: 30 * 24 * time.Hour}},
		1: {withMedia("  fetch_allow: [Upload.Example.com, 10.1.2.0/24, \"::1\", upload.example.com:5281, \"[fd12::1]:443\", 10.1.2.0/24:443]\n  url_ttl: 168h\n"),
			Media{FetchAllow: []string{"Upload.Example.com", "10.1.2.0/24", "::1", "upload.example.com:5281", "[fd12::1]:443", "10.1.2.0/24:443"}, URLTTL: 7 * 24 * time.Hour}},
		2: {withMedia("  fetch_allow: []\n"), Media{FetchAllow: []string{}, URLTTL: 30 * 24 * time.Hour}},
		3: {withMedia("  url_ttl:\n"), Media{URLTTL: 30 * 24 * time.Hour}}, // null: as if absent
	}
	for i, tt := range tests {
		c, err := Parse("gw.yaml", []byte(tt.yaml), lookupTestEnv)
		if err != nil {
			t.Fatalf("%02d: %v", i, err)
		}
		if !reflect.DeepEqual(c.Media, tt.want) {
			t.Errorf("%02d: got %+v, want %+v", i, c.Media, tt.want)
		}
	}
}
