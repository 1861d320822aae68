package conn

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
)

// silentServer accepts one connection on loopback and reads it, never
// answering (a hung server, or a proxy that does not forward); read
// receives once the component's stream header has come.
func silentServer(t *testing.T) (addr string, read <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1)
	done := make(chan struct{})
	accepted := make(chan net.Conn, 1)
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		accepted <- c
		var in []byte
		buf := make([]byte, 512)
		for !bytes.Contains(in, []byte("<stream:stream")) {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			in = append(in, buf[:n]...)
		}
		got <- struct{}{}
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
		<-done
	})
	return ln.Addr().String(), got
}

// Run returns when its ctx ends during a handshake the server never
// answers (SIGTERM while the server hangs): the handshake is not left
// waiting for ever.
func TestRunStopsDuringUnansweredHandshake(t *testing.T) {
	addr, read := silentServer(t)
	c := &Conn{Server: addr, Domain: jid.MustParse("sms.example.test"), Secret: []byte("s3cret-s3cret-s3cret"),
		Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, handlerFunc(nil), nil) }()
	<-read // the handshake waits for the server
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // the failure bound: without the fix it never returns
		t.Fatal("Run did not return after its ctx ended during the handshake")
	}
}
