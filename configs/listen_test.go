package configs

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// http.ops_listen is refused when it would take http.listen's socket: the
// same port with a wildcard host on either side, or the same address or
// name on both (localhost being 127.0.0.1, the one address net.Listen
// binds for it), found without any DNS lookup. Port 0 (any free port) and
// distinct addresses are kept: localhost beside [::1] is two sockets.
func TestOpsListenConflicts(t *testing.T) {
	for _, c := range []struct {
		listen, ops string
		same        bool
	}{
		{"127.0.0.1:18080", ":18080", true},
		{"127.0.0.1:18080", "localhost:18080", true},
		{"127.0.0.1:18080", "0.0.0.0:18080", true},
		{"127.0.0.1:18080", "[::]:18080", true},
		{"localhost:18080", "LocalHost.:18080", true},
		{"127.0.0.1:18080", "[::ffff:127.0.0.1]:18080", true},
		{"gw.example.com:18080", "GW.example.com:18080", true},
		{"127.0.0.1:18080", "127.0.0.1:018080", true},
		{":18080", "10.0.0.1:18080", true},
		{"127.0.0.1:18080", "127.0.0.1:18081", false},
		{"127.0.0.1:18080", "127.0.0.2:18080", false},
		{"127.0.0.1:18080", "10.0.0.1:18080", false},
		{"gw.example.com:18080", "localhost:18080", false},
		{":0", ":0", false},
		{"localhost:18080", "[::1]:18080", false},
		{"[::1]:18080", "LocalHost.:18080", false},
	} {
		y := edit("listen: 127.0.0.1:0", "listen: \""+c.listen+"\"\n  ops_listen: \""+c.ops+"\"")
		_, err := Parse("gw.yaml", []byte(y), lookupTestEnv)
		got := strings.Join(problemsOf(t, err), "\n")
		want := ""
		if c.same {
			want = "gw.yaml:5: http.ops_listen: takes the port of http.listen (line 4) on the same address: " +
				"give it another port (an empty host, 0.0.0.0 and :: are every address; localhost is 127.0.0.1)"
		}
		if got != want {
			t.Errorf("listen %s, ops_listen %s: got %q, want %q", c.listen, c.ops, got, want)
		}
	}
}

// What sameListener takes localhost for is what net.Listen binds for it:
// the first IPv4 address of the name, 127.0.0.1, not ::1 as well.
func TestLocalhostListensOn127(t *testing.T) {
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := l.Addr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	if want, _ := listenHost("localhost"); len(want) != 1 || want[0] != got.String() {
		t.Errorf("net.Listen on localhost bound %s; listenHost says %q", got, want)
	}
	if got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("net.Listen on localhost bound %s, want 127.0.0.1", got)
	}
}
