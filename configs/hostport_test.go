package configs

import (
	"reflect"
	"testing"
)

// A host:port's host is an IP address or a DNS name: one with white space
// (which run would look up as a name, for ever) or other characters is
// refused, naming the key.
func TestHostPortHost(t *testing.T) {
	tests := []struct {
		old, new string
		want     []string
	}{
		{"server: localhost:5347", `server: " 127.0.0.1:5347"`,
			[]string{`gw.yaml:2: xmpp.server: the host has white space or control characters in it`}},
		{"server: localhost:5347", `server: "xmpp server.example:5347"`,
			[]string{`gw.yaml:2: xmpp.server: the host has white space or control characters in it`}},
		{"server: localhost:5347", `server: "xmpp\u0085.example:5347"`,
			[]string{`gw.yaml:2: xmpp.server: the host has white space or control characters in it`}},
		{"listen: 127.0.0.1:0", `listen: " 127.0.0.1:0"`,
			[]string{`gw.yaml:4: http.listen: the host has white space or control characters in it`}},
		{"server: localhost:5347", `server: "xmpp!.example:5347"`,
			[]string{`gw.yaml:2: xmpp.server: the host must be an IP address or a DNS name`}},
		{"server: localhost:5347", `server: "-xmpp.example:5347"`,
			[]string{`gw.yaml:2: xmpp.server: the host must be an IP address or a DNS name`}},
		{"listen: 127.0.0.1:0", `listen: "[::1]:0"`, nil},
		{"listen: 127.0.0.1:0", `listen: ":0"`, nil},
		{"server: localhost:5347", `server: "[fe80::1%eth0]:5347"`, nil},
		{"server: localhost:5347", `server: "XMPP.Example.COM.:5347"`, nil},
		{"server: localhost:5347", `server: "xmpp_1.example:5347"`, nil},
	}
	for _, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit(tt.old, tt.new)), lookupTestEnv)
		if got := problemsOf(t, err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.new, got, tt.want)
		}
	}
}
