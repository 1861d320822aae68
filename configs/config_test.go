package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	allow := []string{"example.com", "ops@other.org", "not a jid@"}
	// As written by hand (parsed at each call), and as Parse leaves it
	// (indexed, each answer kept): the same answers, asked twice.
	for _, c := range []*Config{
		{Access: Access{Allow: allow}},
		{Access: Access{Allow: allow, index: newAllowIndex(allow)}},
	} {
		t.Run(fmt.Sprintf("indexed=%v", c.Access.index != nil), func(t *testing.T) {
			for range 2 {
				testAllowed(t, c)
			}
		})
	}
	if (&Config{}).Allowed("alice@example.com") {
		t.Error("an empty allow list allows someone")
	}
}

func testAllowed(t *testing.T, c *Config) {
	tests := []struct {
		jid  string
		want bool
	}{
		{"alice@example.com", true},
		{"Alice@EXAMPLE.com", true},
		{"example.com", true},
		{"alice@example.com/phone", true}, // compared bare
		{"ops@other.org", true},
		{"OPS@Other.ORG", true},
		{"dev@other.org", false},
		{"other.org", false},
		{"bob@sub.example.com", false},
		{"bob@example.com.evil.org", false},
		{"", false},
		{"@example.com", false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.jid), func(t *testing.T) {
			if got := c.Allowed(tt.jid); got != tt.want {
				t.Errorf("Allowed(%q) = %v, want %v", tt.jid, got, tt.want)
			}
		})
	}
}

// UserDomain: the domains of access.allow's entries, domains and bare JIDs
// alike; not their subdomains.
func TestUserDomain(t *testing.T) {
	allow := []string{"example.com", "ops@other.org", "not a jid@"}
	for _, c := range []*Config{
		{Access: Access{Allow: allow}},
		{Access: Access{Allow: allow, index: newAllowIndex(allow)}},
	} {
		for i, tt := range []struct {
			domain string
			want   bool
		}{
			{"example.com", true},
			{"EXAMPLE.com", true},
			{"other.org", true},
			{"sub.example.com", false},
			{"evil.test", false},
			{"ops@other.org", false},
			{"", false},
		} {
			if got := c.UserDomain(tt.domain); got != tt.want {
				t.Errorf("indexed=%v %d: UserDomain(%q) = %v, want %v", c.Access.index != nil, i, tt.domain, got, tt.want)
			}
		}
	}
	if (&Config{}).UserDomain("example.com") {
		t.Error("an empty allow list serves a domain")
	}
}

// The answers kept are bounded, and right after they start over.
func TestAllowIndexBounded(t *testing.T) {
	ix := newAllowIndex([]string{"example.com"})
	for i := range 3 * maxAnswers {
		want := i%2 == 0
		j := fmt.Sprintf("u%d@example.com", i)
		if !want {
			j = fmt.Sprintf("u%d@example.org", i)
		}
		if got := ix.allowed(j); got != want {
			t.Fatalf("allowed(%q) = %v, want %v", j, got, want)
		}
		if n := len(ix.answers); n > maxAnswers {
			t.Fatalf("%d answers kept, more than %d", n, maxAnswers)
		}
	}
	long := strings.Repeat("a", maxAnsweredLen) + "@example.com"
	if !ix.allowed(long) {
		t.Error("a long JID of an allowed domain is refused")
	}
	if _, ok := ix.answers[long]; ok {
		t.Error("the answer for a JID longer than maxAnsweredLen was kept")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"gw.yaml", 3, "xmpp.server", "is required"}, "gw.yaml:3: xmpp.server: is required"},
		{Problem{"gw.yaml", 0, "transports", "at least one transport is required"}, "gw.yaml: transports: at least one transport is required"},
		{Problem{"gw.yaml", 7, "", "bad"}, "gw.yaml:7: bad"},
		{Problem{"", 7, "k", "bad"}, "line 7: k: bad"},
		{Problem{"", 0, "", "bad"}, "bad"},
	}
	for i, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%d. got %q, want %q", i, got, tt.want)
		}
	}
	ps := Problems{tests[0].p, tests[2].p}
	if got, want := ps.Error(), "gw.yaml:3: xmpp.server: is required\ngw.yaml:7: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET", "from-env-0123456789")
	t.Setenv("TOKEN", "tok")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.Transports[0].Secret != "from-env-0123456789" {
		t.Errorf("got File %q, secret %q", c.File, c.Transports[0].Secret)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	var ps Problems
	if err == nil || errors.As(err, &ps) || !strings.HasPrefix(err.Error(), "configs: ") {
		t.Errorf("missing file: got %v", err)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"xmpp", "store", "http", "access", "log", "transports"}
	tests := []struct{ word, want string }{
		{"sever", ""},
		{"stor", "store"},
		{"acess", "access"},
		{"lg", "log"},
		{"g", ""},
		{"transport", "transports"},
		{"tarnsports", "transports"},
		{"xyz", ""},
	}
	for i, tt := range tests {
		if got := closest(tt.word, known); got != tt.want {
			t.Errorf("%d. closest(%q) = %q, want %q", i, tt.word, got, tt.want)
		}
	}
}
