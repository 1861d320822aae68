package tguserfake

import (
	"io"
	"net"
	"sync"
	"time"
)

// headerTimeout bounds how long a new connection may take to send the
// first bytes of its transport header.
const headerTimeout = 10 * time.Second

// listener hands tgtest only connections whose transport header has
// arrived. tgtest reads that header inside Accept and stops serving on any
// Accept error, so a client that connects and hangs up at once would
// otherwise stop the whole server.
//
// Its connections also share one gate (see conn): tgtest's session map is
// written after a key exchange under a different mutex than the one it is
// read under, which the race detector reports when a key exchange overlaps
// another connection's request.
type listener struct {
	raw   net.Listener
	ready chan net.Conn
	done  chan struct{}
	gate  sync.Mutex

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newListener(raw net.Listener) *listener {
	l := &listener{
		raw:   raw,
		ready: make(chan net.Conn),
		done:  make(chan struct{}),
		conns: map[*conn]struct{}{},
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	for {
		raw, err := l.raw.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		c := &conn{Conn: raw, gate: &l.gate, l: l}
		if !l.track(c) {
			_ = raw.Close()
			return
		}
		l.wg.Add(1)
		go l.greet(c)
	}
}

// greet reads the transport header (one byte for the abridged codec, four
// otherwise) and queues the connection for Accept, replaying the header.
func (l *listener) greet(c *conn) {
	defer l.wg.Done()
	var head [4]byte
	_ = c.Conn.SetReadDeadline(time.Now().Add(headerTimeout))
	n := 1
	_, err := io.ReadFull(c.Conn, head[:1])
	if err == nil && head[0] != 0xef {
		n = 4
		_, err = io.ReadFull(c.Conn, head[1:4])
	}
	_ = c.Conn.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	c.replay = append([]byte(nil), head[:n]...)
	select {
	case l.ready <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *listener) track(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *listener) untrack(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// Accept implements net.Listener.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Open connections stay up until closeAll.
func (l *listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.raw.Close()
	})
	return err
}

// closeAll closes the listener and every connection, then waits for the
// listener's own goroutines.
func (l *listener) closeAll() {
	_ = l.Close()
	l.mu.Lock()
	l.closed = true
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	l.wg.Wait()
}

// Addr implements net.Listener.
func (l *listener) Addr() net.Addr { return l.raw.Addr() }

// conn is a server-side connection. Its serving goroutine holds the
// listener's gate whenever it is not blocked reading, so tgtest handles
// one request (or key exchange step) at a time across connections.
type conn struct {
	net.Conn
	gate *sync.Mutex
	l    *listener

	// replay is the header greet read; only the reading goroutine uses it.
	replay []byte

	mu   sync.Mutex
	held bool
}

// Read implements net.Conn.
func (c *conn) Read(p []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	c.release()
	n, err := c.Conn.Read(p)
	if err == nil {
		c.acquire()
	}
	return n, err
}

func (c *conn) acquire() {
	c.gate.Lock()
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

func (c *conn) release() {
	c.mu.Lock()
	if c.held {
		c.held = false
		c.gate.Unlock()
	}
	c.mu.Unlock()
}

// Close implements net.Conn. It also gives the gate back if this
// connection holds it.
func (c *conn) Close() error {
	c.release()
	c.l.untrack(c)
	return c.Conn.Close()
}
