package transports

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
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

// TestFetchTransportRefusesLinkLocal: a user's URL cannot reach a cloud
// metadata service; loopback (a private upload server) still works.
func TestFetchTransportRefusesLinkLocal(t *testing.T) {
	c := &http.Client{Transport: FetchTransport(), Timeout: 5 * time.Second}
	_, err := c.Get("http://169.254.169.254/latest/meta-data/")
	if err == nil || !strings.Contains(err.Error(), "refusing to fetch from 169.254.169.254") {
		t.Errorf("metadata fetch: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
