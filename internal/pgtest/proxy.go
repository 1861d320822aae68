package pgtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a PostgreSQL server until Cut, after
// which it forwards nothing and closes nothing, as a network partition (or
// a host gone) looks to both ends.
type Proxy struct {
	dsn   string
	cuts  chan struct{}
	once  sync.Once
	heard atomic.Int64 // what clients sent after the cut

	mu    sync.Mutex
	conns []net.Conn
}

// NewProxy starts a proxy to the server of dsn (a postgres:// URL) on
// 127.0.0.1, stopped when t ends. Its DSN is dsn through it.
func NewProxy(t testing.TB, dsn string) *Proxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	p := &Proxy{dsn: u.String(), cuts: make(chan struct{})}
	var wg sync.WaitGroup // the pipes
	accepting := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-accepting
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.isCut() { // a new connection is heard, and answered by no one
				p.heard.Add(1)
				p.keep(c)
				wg.Add(1)
				go func() { defer wg.Done(); p.swallow(c) }()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.keep(c, s)
			wg.Add(2)
			go func() { defer wg.Done(); p.pipe(s, c, true) }()
			go func() { defer wg.Done(); p.pipe(c, s, false) }()
		}
	}()
	return p
}

// DSN is the server's dsn through p.
func (p *Proxy) DSN() string { return p.dsn }

// Cut stops all traffic through p, for good.
func (p *Proxy) Cut() { p.once.Do(func() { close(p.cuts) }) }

// Heard returns how much clients sent after the cut: bytes, and one for
// each new connection.
func (p *Proxy) Heard() int64 { return p.heard.Load() }

func (p *Proxy) isCut() bool {
	select {
	case <-p.cuts:
		return true
	default:
		return false
	}
}

func (p *Proxy) keep(c ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c...)
}

// pipe copies src to dst until the cut, then swallows what src sends.
// fromClient: src is the client.
func (p *Proxy) pipe(dst, src net.Conn, fromClient bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.isCut() {
			if fromClient {
				p.heard.Add(int64(n))
				p.swallow(src)
			} else {
				io.Copy(io.Discard, src)
			}
			return
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// swallow reads what the client c sends, counting it, until c is closed.
func (p *Proxy) swallow(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		p.heard.Add(int64(n))
		if err != nil {
			return
		}
	}
}
