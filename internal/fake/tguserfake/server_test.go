package tguserfake

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartOptions(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr = %q", s.Addr())
	}
	if s.DC() != 2 || s.DCOption().ID != 2 || s.DCOption().IPAddress != "127.0.0.1" || s.DCOption().Port != s.Port() {
		t.Fatalf("DC %d, option %+v", s.DC(), s.DCOption())
	}
	block, _ := pem.Decode(s.PublicKeyPEM())
	if block == nil || block.Type != "RSA PUBLIC KEY" {
		t.Fatalf("PEM = %q", s.PublicKeyPEM())
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil || !k.Equal(s.PublicKey()) || k.N.BitLen() != 2048 {
		t.Fatalf("PEM key: %v", err)
	}
	if _, err := Start(context.Background(), "0.0.0.0:0", nil); err == nil {
		t.Fatal("listened on 0.0.0.0")
	}
}

// serverGoroutines counts goroutines running the fake's or tgtest's code.
func serverGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "gotd/td/tgtest.") || strings.Contains(g, "tguserfake.(*listener)") {
			n++
		}
	}
	return n
}

// TestCloseStopsGoroutines is not parallel: it counts goroutines.
func TestCloseStopsGoroutines(t *testing.T) {
	s, err := Start(context.Background(), "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := loggedIn(t, s, s.AddUser(ann))
	// A connection that never sends its header.
	idle, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if serverGoroutines() == 0 {
		t.Fatal("no server goroutines while serving")
	}

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	if n := serverGoroutines(); n != 0 {
		t.Fatalf("%d server goroutines left after Close", n)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("still listening after Close")
	}
	// Calls after Close do not panic or hang.
	s.Post(1000001, Peer{User: 1000001}, "note to self", 0)
	_ = cl
}
