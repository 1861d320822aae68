package conn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"xmppgw/component/stanza"
)

// live is a session that is up, until it ends: its Serve returned, or the
// gateway ended it (see end).
type live struct {
	s     *xmpp.Session
	ended chan struct{} // closed when the session ends

	once sync.Once
	why  error // why the gateway ended it; nil if it did not
}

// finish marks the session ended, by the gateway for why (nil: it ended
// by itself); only its first call counts.
func (lv *live) finish(why error) {
	lv.once.Do(func() {
		lv.why = why
		close(lv.ended)
	})
}

// cause returns why the gateway ended the session, or nil.
func (lv *live) cause() error {
	<-lv.ended
	return lv.why
}

// errSessionEnded is a Barrier on a session that has ended, or that ends
// while it waits.
var errSessionEnded = errors.New("component: the session has ended")

// endError is a session the gateway ended (its cause, for the restarts
// metric): a write to it failed, or the server did not answer a barrier.
type endError struct {
	cause string
	err   error
}

func (e *endError) Error() string { return e.err.Error() }
func (e *endError) Unwrap() error { return e.err }

// Attach makes s the session that is up, without dialing, as after a
// handshake; Attach(nil) makes none up. The session that was up ends (its
// connection is left open). It is for tests that serve a session over a
// pipe, with Handler: Run manages its sessions itself.
func (l *Conn) Attach(s *xmpp.Session) {
	if s == nil {
		l.mu.Lock()
		lv := l.live
		l.mu.Unlock()
		if lv != nil {
			l.drop(lv, nil)
		}
		return
	}
	l.setLive(s)
}

// setLive makes s the session that is up; the one that was ends.
func (l *Conn) setLive(s *xmpp.Session) *live {
	lv := &live{s: s, ended: make(chan struct{})}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live != nil {
		l.live.finish(nil)
	}
	l.live = lv
	l.failed = nil
	close(l.upChan())
	l.up = nil
	return lv
}

// drop ends lv, for why (nil: it ended by itself); it is no longer the
// session that is up.
func (l *Conn) drop(lv *live, why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live == lv {
		l.live = nil
	}
	lv.finish(why)
}

// end ends the session s, if it is up, for why: its connection is closed,
// so that its Serve returns and Run connects again. A write that failed
// has left the session's encoder broken for good (its buffered writer
// keeps the error), and a server that does not answer a barrier is not
// routing what is written to it.
func (l *Conn) end(s *xmpp.Session, why *endError) {
	l.mu.Lock()
	lv := l.live
	l.mu.Unlock()
	if lv != nil && lv.s == s {
		l.drop(lv, why)
	}
	s.Conn().Close()
}

// ended returns a channel closed once s is no longer the session that is
// up.
func (l *Conn) ended(s *xmpp.Session) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live != nil && l.live.s == s {
		return l.live.ended
	}
	return closed
}

// closed is a closed channel.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Connected reports whether a session is up.
func (l *Conn) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live != nil
}

// ConnectError returns why the last attempt to connect failed (the dial or
// the handshake), or nil once a session has come up since. It never holds
// the secret.
func (l *Conn) ConnectError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Session waits until a session is up and returns it.
func (l *Conn) Session(ctx context.Context) (*xmpp.Session, error) {
	for {
		l.mu.Lock()
		lv, up := l.live, l.upChan()
		l.mu.Unlock()
		if lv != nil {
			return lv.s, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// upChan returns the channel closed when the next session comes up. l.mu held.
func (l *Conn) upChan() chan struct{} {
	if l.up == nil {
		l.up = make(chan struct{})
	}
	return l.up
}

// Write writes stanzas to s in one flush. If that fails, s ends (see end):
// the caller writes them again on the next session.
func (l *Conn) Write(s *xmpp.Session, stanzas [][]byte) error {
	if err := writeTo(s, stanzas); err != nil {
		err = fmt.Errorf("component: writing to the server: %w", err)
		if !errors.Is(err, xmpp.ErrOutputStreamClosed) { // closing already (shutdown)
			l.end(s, &endError{"io", err})
		}
		return err
	}
	return nil
}

// writeTo writes stanzas to s in one flush.
func writeTo(s *xmpp.Session, stanzas [][]byte) error {
	w := s.TokenWriter()
	defer w.Close()
	for _, st := range stanzas {
		if _, err := xmlstream.Copy(w, stanza.NewRawReader(st)); err != nil {
			return err
		}
	}
	return w.Flush()
}
