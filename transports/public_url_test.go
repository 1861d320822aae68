package transports

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

func TestIsPublicURL(t *testing.T) {
	old := lookupHost
	t.Cleanup(func() { lookupHost = old })
	lookupHost = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		switch host {
		case "files.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2606:2800:220:1::1")}, nil
		case "upload.internal":
			return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
		case "mixed.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("192.168.1.2")}, nil
		}
		return nil, errors.New("no such host")
	}
	for raw, want := range map[string]bool{
		"https://files.example.com/a.jpg":    true,
		"http://93.184.216.34:8080/x":        true,
		"https://[2606:2800:220:1::1]/x":     true,
		"https://upload.internal/a.jpg":      false,
		"https://mixed.example.com/a.jpg":    false,
		"https://nowhere.invalid/a.jpg":      false,
		"http://127.0.0.1:5280/upload/a.jpg": false,
		"http://localhost/a.jpg":             false,
		"http://10.1.2.3/a":                  false,
		"http://172.16.0.1/a":                false,
		"http://192.168.0.1/a":               false,
		"http://169.254.169.254/latest":      false,
		"http://100.64.0.1/a":                false,
		"http://0.0.0.0/a":                   false,
		"http://[::1]/a":                     false,
		"http://[fe80::1]/a":                 false,
		"http://[fd00::1]/a":                 false,
		"http://[::ffff:127.0.0.1]/a":        false,
		"http://[fc00::1]/a":                 false,
		"http://[64:ff9b::a00:1]/a":          false,
		"http://[::127.0.0.1]/a":             false,
		"http://[::ffff:0:7f00:1]/a":         false,
		"http://[2002:7f00:1::]/a":           false,
		"http://[2001:0::1]/a":               false,
		"http://255.255.255.255/a":           false,
		"http://[ff02::1]/a":                 false,
		"ftp://93.184.216.34/a":              false,
		"/relative/path":                     false,
		"https://user:pw@93.184.216.34/x":    true,
		"::not a url":                        false,
	} {
		if got := IsPublicURL(context.Background(), raw); got != want {
			t.Errorf("IsPublicURL(%q) = %v, want %v", raw, got, want)
		}
	}
}
