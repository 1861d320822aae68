package conn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	xcomp "mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppgw/internal/backoff"
)

// Conn keeps one XEP-0114 component session to the server up, reconnecting
// with jittered exponential backoff when it drops.
type Conn struct {
	Server string  // host:port of the component listener
	Domain jid.JID // the component's domain
	Secret []byte
	Logger *slog.Logger
	// Origin names where the operator set Domain, Server and Secret, for
	// the likely causes of a refused handshake (see handshakeError).
	Origin Origin
	// OnChange, if set, is called when a session comes up (true) or goes
	// down (false).
	OnChange func(up bool)

	// OnRestart, if set, is called each time a session ends or fails to
	// start, with the cause (see restartCause), except at shutdown.
	OnRestart func(cause string)

	// MinBackoff and MaxBackoff bound the reconnect delay; zero means 200ms
	// and 30s.
	MinBackoff, MaxBackoff time.Duration

	// WriteTimeout bounds one write to the server; zero means writeTimeout.
	WriteTimeout time.Duration

	mu     sync.Mutex
	live   *live                         // the session that is up, or nil
	up     chan struct{}                 // closed while a session is up; replaced when it drops
	failed error                         // why the last attempt to connect failed, until a session is up
	pings  map[string]chan barrierAnswer // Barrier's pings waiting for their answer, by id
}

// Run connects and serves h until ctx is done, reconnecting as needed.
// onUp is called after every successful handshake, before the session is
// served; it must not block.
func (l *Conn) Run(ctx context.Context, h xmpp.Handler, onUp func()) error {
	policy := backoff.Policy{Min: l.MinBackoff, Max: l.MaxBackoff}
	if policy.Min == 0 {
		policy.Min = 200 * time.Millisecond
	}
	if policy.Max == 0 {
		policy.Max = 30 * time.Second
	}
	attempt := 0
	for {
		sh := &servedHandler{h: h}
		start := time.Now()
		err := l.serveOnce(ctx, sh, onUp)
		if ctx.Err() != nil {
			return nil
		}
		cause := restartCause(err)
		if l.OnRestart != nil {
			l.OnRestart(cause)
		}
		if sh.served.Load() || time.Since(start) > 10*time.Second {
			attempt = 0 // the session worked: start over
		}
		wait := policy.Delay(attempt)
		attempt++
		msg := "component: disconnected, reconnecting"
		var se *startError
		if errors.As(err, &se) { // no session came up
			msg = "component: could not connect, retrying"
			l.mu.Lock()
			l.failed = err
			l.mu.Unlock()
		}
		l.Logger.Warn(msg, "server", l.Server,
			"domain", l.Domain.String(), "cause", cause, "err", err, "retry_in", wait.Round(time.Millisecond))
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
	}
}

func (l *Conn) serveOnce(ctx context.Context, h xmpp.Handler, onUp func()) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	raw, err := d.DialContext(dctx, "tcp", l.Server)
	cancel()
	if err != nil {
		return &startError{"dial", fmt.Errorf("component: dial: %w", err)}
	}
	timeout := l.WriteTimeout
	if timeout == 0 {
		timeout = writeTimeout
	}
	conn := writeDeadlineConn{raw, timeout}
	// A connection deadline bounds the handshake, and closing the
	// connection ends it when ctx does. mellium gets a ctx that never ends:
	// when its ctx ends, it sets a deadline in the past and at once clears
	// it, which would remove this one (the handshake would then wait for
	// a silent server forever), or, if that fires after NewSession has
	// returned, break the established session.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	s, err := xcomp.NewSession(context.WithoutCancel(ctx), l.Domain, l.Secret, conn)
	if !stopClose() && err == nil {
		err = ctx.Err() // shutdown: the connection is closed
	}
	conn.SetDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return &startError{"handshake", l.handshakeError(err)}
	}
	l.Logger.Info("component: connected", "server", l.Server, "domain", l.Domain.String())

	lv := l.setLive(s)
	if onUp != nil {
		onUp()
	}
	if l.OnChange != nil {
		l.OnChange(true)
	}

	// Close the session when ctx ends so Serve returns; close the
	// connection too if that takes long (a write may be stuck on a server
	// that stopped reading, holding the lock Close needs).
	stop := context.AfterFunc(ctx, func() {
		force := time.AfterFunc(3*time.Second, func() { conn.Close() })
		defer force.Stop()
		// Not s.SetCloseDeadline: it writes session fields that Serve reads
		// unsynchronised. A read deadline on the conn bounds the wait the same way.
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		s.Close()
	})
	err = s.Serve(l.Handler(h))
	stop()

	l.drop(lv, nil)
	if l.OnChange != nil {
		l.OnChange(false)
	}
	conn.Close()
	if cause := lv.cause(); cause != nil {
		err = cause // the gateway ended it: Serve's error is the closed connection
	}
	if err == nil {
		err = errServerClosed
	}
	return err
}

var errServerClosed = errors.New("component: server closed the stream")

// startError is a session that did not start: its stage ("dial" or
// "handshake") is the restart's cause.
type startError struct {
	stage string
	err   error
}

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// servedHandler passes stanzas to h and remembers whether it handled one:
// the session worked.
type servedHandler struct {
	h      xmpp.Handler
	served atomic.Bool
}

func (s *servedHandler) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	err := s.h.HandleXMPP(t, start)
	if err == nil && !s.served.Load() {
		s.served.Store(true)
	}
	return err
}

// restartCause names why a session ended, for the restarts metric:
// dial, handshake, stream_error (the server sent one), malformed (XML that
// is not well-formed), closed (the server closed it), unanswered (the
// server did not answer a write barrier's ping in time, or answered it
// with an error) or io (the connection failed, or a write did).
func restartCause(err error) string {
	var se *startError
	var serr stream.Error
	var syn *xml.SyntaxError
	var ee *endError
	switch {
	case errors.As(err, &se):
		return se.stage
	case errors.As(err, &ee):
		return ee.cause
	case errors.As(err, &syn) && syn.Msg == "unexpected EOF":
		// The connection ended mid-stream (a server restarting), not XML
		// that is not well-formed.
		return "closed"
	case errors.As(err, &syn):
		return "malformed"
	case errors.As(err, &serr):
		return "stream_error"
	case errors.Is(err, errServerClosed):
		return "closed"
	}
	return "io"
}

// writeTimeout bounds one write to the server: a server that stops reading
// breaks the session (and the connection is made again) instead of blocking it.
const writeTimeout = 30 * time.Second

// writeDeadlineConn sets a write deadline timeout ahead before every write.
type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c writeDeadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}
