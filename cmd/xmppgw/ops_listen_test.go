package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With http.ops_listen, /healthz, /readyz and /metrics answer there and
// not on http.listen, which serves the webhooks; without it, on
// http.listen (TestOpsOnListen).
func TestOpsListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsAddr := l.Addr().String()
	l.Close()
	path := runConfig(t, filepath.Join(t.TempDir(), "gw.db"), "")
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	y = []byte(strings.Replace(string(y), "  listen: 127.0.0.1:0\n", "  listen: 127.0.0.1:0\n  ops_listen: "+opsAddr+"\n", 1))
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startServe(t, path)
	tests := []struct {
		addr, path string
		status     int
	}{
		{opsAddr, "/healthz", 200},
		{opsAddr, "/metrics", 200},
		{opsAddr, "/readyz", 503}, // the component server is a closed port
		{opsAddr, "/hooks/sms/inbound", 404},
		{addr, "/healthz", 404},
		{addr, "/metrics", 404},
		{addr, "/readyz", 404},
		{addr, "/hooks/sms/inbound", 405}, // the webhook, which takes POST only
	}
	for _, tt := range tests {
		if got := getStatus(t, "http://"+tt.addr+tt.path); got != tt.status {
			t.Errorf("GET %s on %s: %d, want %d", tt.path, map[bool]string{true: "ops_listen", false: "listen"}[tt.addr == opsAddr], got, tt.status)
		}
	}
}

func TestOpsOnListen(t *testing.T) {
	addr := startServe(t, runConfig(t, filepath.Join(t.TempDir(), "gw.db"), ""))
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 200, "/hooks/sms/inbound": 405} {
		if got := getStatus(t, "http://"+addr+path); got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
