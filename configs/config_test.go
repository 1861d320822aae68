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
	c := &Config{Access: Access{Allow: []string{"example.com", "ops@other.org", "not a jid@"}}}
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
	if (&Config{}).Allowed("alice@example.com") {
		t.Error("an empty allow list allows someone")
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
