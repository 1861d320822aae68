package conn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
)

// queuedMsg is the stored stanza of queue id n.
func queuedMsg(n int) mapping.Queued {
	return mapping.Queued{ID: int64(n), Stanza: []byte(fmt.Sprintf(
		`<message xmlns="jabber:component:accept" to="a@example.test" from="%d@sms.example.test" id="m%d"><body>%d</body></message>`, n, n, n))}
}

// startWriter runs a Writer of q on c until the test ends.
func startWriter(t *testing.T, c *Conn, q *memQueue, wake chan struct{}) {
	w := &Writer{
		Conn: c, Queue: q, Wake: wake, Poll: time.Hour,
		Log:     slog.New(slog.DiscardHandler),
		Persist: func(ctx context.Context, f func(context.Context) error) { f(ctx) },
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

// A batch written just before the server went away, its barrier not
// answered, is written again on the next session as soon as that is up:
// not when the dead session's barrier times out (BarrierTimeout). The
// clock is synctest's: time passes only while every goroutine waits.
func TestWriterResendsUnconfirmedOnNextSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := &Conn{Domain: jid.MustParse("sms.example.test")}
		s1, server1 := pipeSession(t, ctx, c)
		c.Attach(s1)
		q := &memQueue{written: make(chan int64, 4), items: []mapping.Queued{queuedMsg(1)}}
		startWriter(t, c, q, make(chan struct{}))

		r1 := newStanzaReader(server1)
		r1.next(t) // the message
		if _, id := r1.next(t); !strings.HasPrefix(id, "barrier-") {
			t.Fatalf("no barrier after the message, but %q", id)
		}
		// The server goes away before it answers; the component connects again.
		began := time.Now()
		c.Attach(nil)
		server1.Close()
		s2, server2 := pipeSession(t, ctx, c)
		c.Attach(s2)
		r2 := newStanzaReader(server2)
		if got, _ := r2.next(t); got != string(queuedMsg(1).Stanza) {
			t.Fatalf("the next session got\n%s\nwant\n%s", got, queuedMsg(1).Stanza)
		}
		if waited := time.Since(began); waited >= BarrierTimeout {
			t.Errorf("the unconfirmed message was written again %v after the server went away: it waited for the dead session's barrier", waited)
		}
		_, id := r2.next(t)
		io.WriteString(server2, `<iq type="result" id="`+id+`" from="sms.example.test" to="sms.example.test"/>`)
		if up := <-q.written; up != 1 {
			t.Errorf("written up to %d, want 1", up)
		}
	})
}

// The next session's barrier, confirming what is written to it, does not
// wait behind the dead session's (confirmations are made one at a time).
func TestWriterNextSessionBarrierNotBehindDeadOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := &Conn{Domain: jid.MustParse("sms.example.test")}
		s1, server1 := pipeSession(t, ctx, c)
		c.Attach(s1)
		q := &memQueue{written: make(chan int64, 4), items: []mapping.Queued{queuedMsg(1)}}
		startWriter(t, c, q, make(chan struct{}))

		r1 := newStanzaReader(server1)
		r1.next(t)
		r1.next(t) // the barrier, never answered
		q.mu.Lock()
		q.items = append(q.items, queuedMsg(2)) // stored meanwhile
		q.mu.Unlock()
		began := time.Now()
		c.Attach(nil)
		server1.Close()
		s2, server2 := pipeSession(t, ctx, c)
		c.Attach(s2)

		r2 := newStanzaReader(server2)
		for _, want := range []mapping.Queued{queuedMsg(1), queuedMsg(2)} {
			if got, _ := r2.next(t); got != string(want.Stanza) {
				t.Fatalf("the next session got\n%s\nwant\n%s", got, want.Stanza)
			}
		}
		_, id := r2.next(t)
		if !strings.HasPrefix(id, "barrier-") {
			t.Fatalf("no barrier after the messages, but %q", id)
		}
		if waited := time.Since(began); waited >= BarrierTimeout {
			t.Errorf("the next session's barrier came %v after the server went away: it waited for the dead session's", waited)
		}
		io.WriteString(server2, `<iq type="result" id="`+id+`" from="sms.example.test" to="sms.example.test"/>`)
		if up := <-q.written; up != 2 {
			t.Errorf("written up to %d, want 2", up)
		}
	})
}
