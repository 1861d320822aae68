package conn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/logbuf"
	"xmppgw/mapping"
)

// stallingServer is an XEP-0114 server on loopback (any secret): on its
// first connection it reads nothing after the handshake until resume is
// closed; then, on every connection, it records the ids of the messages
// it reads and answers the barriers' pings, until the component closes
// its stream.
type stallingServer struct {
	addr   string
	resume chan struct{}
	conns  chan struct{} // receives for each connection accepted

	mu  sync.Mutex
	got map[string]bool // the message ids read
	wg  sync.WaitGroup
}

func startStallingServer(t *testing.T, domain string) *stallingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &stallingServer{addr: ln.Addr().String(), resume: make(chan struct{}), conns: make(chan struct{}, 100), got: map[string]bool{}}
	var open sync.Map // the connections, closed at the end
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			open.Store(c, true)
			f.conns <- struct{}{}
			f.wg.Add(1)
			go func(stall bool) { defer f.wg.Done(); defer c.Close(); f.serve(c, domain, stall) }(first)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		f.wg.Wait()
	})
	return f
}

func (f *stallingServer) serve(c net.Conn, domain string, stall bool) {
	d := xml.NewDecoder(c)
	if !skipTo(d, "stream") {
		return
	}
	io.WriteString(c, `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='`+domain+`'>`)
	if !skipTo(d, "handshake") {
		return
	}
	d.Skip()
	io.WriteString(c, `<handshake/>`)
	if stall {
		<-f.resume
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		if _, ok := tok.(xml.EndElement); ok {
			return // the component closed its stream
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var id string
		for _, a := range se.Attr {
			if a.Name.Local == "id" {
				id = a.Value
			}
		}
		if err := d.Skip(); err != nil {
			return
		}
		if se.Name.Local == "iq" {
			fmt.Fprintf(c, `<iq type='result' id='%s' from='%s' to='%s'/>`, id, domain, domain)
			continue
		}
		f.mu.Lock()
		f.got[id] = true
		f.mu.Unlock()
	}
}

// read returns how many distinct messages the server has read.
func (f *stallingServer) read() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// skipTo reads d up to the start of an element named local.
func skipTo(d *xml.Decoder, local string) bool {
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			return true
		}
	}
}

// A server that stops reading for longer than the write timeout, then
// reads again (paused by a long GC, a VM stall, SIGSTOP/SIGCONT): the
// write that timed out ends the session (its encoder keeps the error, so
// no later write on it could succeed), the component connects again, and
// every message reaches the server.
func TestWriteTimeoutEndsSession(t *testing.T) {
	domain := jid.MustParse("sms.example.test")
	srv := startStallingServer(t, domain.String())
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c := &Conn{Server: srv.addr, Domain: domain, Secret: []byte("s3cret-s3cret-s3cret"), Logger: log,
		MinBackoff: 10 * time.Millisecond, WriteTimeout: 100 * time.Millisecond}
	// More than the sockets' buffers hold: the write blocks.
	const n = 256
	big := strings.Repeat("x", 32_000)
	var items []mapping.Queued
	for i := 1; i <= n; i++ {
		items = append(items, mapping.Queued{ID: int64(i), Stanza: []byte(fmt.Sprintf(
			`<message xmlns="jabber:component:accept" to="a@example.test" from="1@sms.example.test" id="m%d"><body>%s</body></message>`, i, big))})
	}
	q := &memQueue{written: make(chan int64, n), items: items}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { c.Run(ctx, handlerFunc(nil), nil) })
	w := &Writer{Conn: c, Queue: q, Wake: make(chan struct{}), Poll: time.Hour, Log: log,
		Persist: func(ctx context.Context, f func(context.Context) error) { f(ctx) }}
	wg.Go(func() { w.Run(ctx) })

	fail := time.After(30 * time.Second) // the failure bound, not a pass criterion
	<-srv.conns
	for !strings.Contains(logs.String(), "writing to the server failed") {
		select {
		case <-fail:
			t.Fatalf("the write to a server that stopped reading did not fail; log:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(srv.resume) // the server reads again
	select {
	case <-srv.conns:
	case <-fail:
		t.Fatalf("no new connection after the write failed (Connected() = %v); log:\n%s", c.Connected(), logs.String())
	}
	for srv.read() < n {
		select {
		case <-fail:
			t.Fatalf("the server read %d of the %d messages", srv.read(), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	for up := int64(0); up < n; {
		select {
		case up = <-q.written:
		case <-fail:
			t.Fatalf("confirmed up to %d of %d", up, n)
		}
	}
}

// A Barrier whose ctx ends while its ping is being written (a server
// slow to read) leaves the session writable: its ping is written whole,
// and the next write goes through. mellium's SendIQ would set a write
// deadline in the past on the connection, failing the write and, with it,
// every later one on the session (its encoder keeps the error).
func TestBarrierCtxEndLeavesSessionWritable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &Conn{Domain: jid.MustParse("sms.example.test")}
		s, server := pipeSession(t, t.Context(), c)
		c.Attach(s)
		ctx, cancel := context.WithCancel(t.Context())
		barrier := make(chan error, 1)
		go func() { barrier <- c.Barrier(ctx, s) }()
		synctest.Wait() // the ping's write waits for the server to read
		cancel()
		synctest.Wait()
		select {
		case err := <-barrier:
			t.Fatalf("the barrier's ping was not written when its ctx ended: %v", err)
		default:
		}
		r := newStanzaReader(server)
		if _, id := r.next(t); !strings.HasPrefix(id, "barrier-") {
			t.Fatalf("read %q, want the barrier's ping", id)
		}
		if err := <-barrier; !errors.Is(err, context.Canceled) {
			t.Errorf("the barrier returned %v, want its ctx's end", err)
		}
		msg := queuedMsg(1).Stanza
		wrote := make(chan error, 1)
		go func() { wrote <- c.Write(s, [][]byte{msg}) }()
		if got, _ := r.next(t); got != string(msg) {
			t.Errorf("after the barrier, the server read\n%s\nwant\n%s", got, msg)
		}
		if err := <-wrote; err != nil {
			t.Errorf("the write after the barrier failed: %v", err)
		}
		if !c.Connected() {
			t.Error("the session ended")
		}
	})
}
