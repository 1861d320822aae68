package conn

import (
	"bytes"
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
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"xmppgw/mapping"
)

// A session's end is named by its cause, for the restarts metric.
func TestRestartCause(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&startError{"dial", errors.New("refused")}, "dial"},
		{&startError{"handshake", errors.New("not-authorized")}, "handshake"},
		{fmt.Errorf("reading: %w", &xml.SyntaxError{Msg: "bad", Line: 1}), "malformed"},
		{fmt.Errorf("reading: %w", &xml.SyntaxError{Msg: "unexpected EOF", Line: 1}), "closed"},
		{fmt.Errorf("serving: %w", stream.Conflict), "stream_error"},
		{errServerClosed, "closed"},
		{&endError{"unanswered", errors.New("no answer")}, "unanswered"},
		{fmt.Errorf("serving: %w", &endError{"io", errors.New("i/o timeout")}), "io"},
		{io.ErrUnexpectedEOF, "io"},
		{nil, "io"},
	}
	for i, tt := range tests {
		if got := restartCause(tt.err); got != tt.want {
			t.Errorf("%d: restartCause(%v) = %q, want %q", i, tt.err, got, tt.want)
		}
	}
}

type handlerFunc func(xmlstream.TokenReadEncoder, *xml.StartElement) error

func (f handlerFunc) HandleXMPP(t xmlstream.TokenReadEncoder, s *xml.StartElement) error {
	return f(t, s)
}

// A session worked once its handler handled a stanza without an error.
func TestServedHandler(t *testing.T) {
	fail := true
	sh := &servedHandler{h: handlerFunc(func(xmlstream.TokenReadEncoder, *xml.StartElement) error {
		if fail {
			return errors.New("no")
		}
		return nil
	})}
	sh.HandleXMPP(nil, &xml.StartElement{})
	if sh.served.Load() {
		t.Fatal("served after a failed stanza")
	}
	fail = false
	sh.HandleXMPP(nil, &xml.StartElement{})
	if !sh.served.Load() {
		t.Fatal("not served after a handled stanza")
	}
}

// Session waits for a session to come up; Connected follows it.
func TestSessionWaits(t *testing.T) {
	domain := jid.MustParse("sms.example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &Conn{Domain: domain}
	if c.Connected() {
		t.Fatal("connected before a session")
	}
	got := make(chan error, 1)
	go func() { _, err := c.Session(ctx); got <- err }()
	s, _ := pipeSession(t, ctx, c)
	c.Attach(s)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if !c.Connected() {
		t.Fatal("not connected with a session")
	}
	c.Attach(nil)
	if c.Connected() {
		t.Fatal("connected after the session was detached")
	}
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if _, err := c.Session(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Session without one: %v, want the context's error", err)
	}
}

// memQueue is a Queue in memory.
type memQueue struct {
	mu      sync.Mutex
	items   []mapping.Queued
	written chan int64
}

func (q *memQueue) After(_ context.Context, after int64, limit int) ([]mapping.Queued, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []mapping.Queued
	for _, it := range q.items {
		if it.ID > after && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (q *memQueue) Written(_ context.Context, upTo int64) error {
	q.mu.Lock()
	kept := q.items[:0]
	for _, it := range q.items {
		if it.ID > upTo {
			kept = append(kept, it)
		}
	}
	q.items = kept
	q.mu.Unlock()
	q.written <- upTo
	return nil
}

// The writer writes what is stored, in order, then a ping to the domain
// itself, and removes the batch from the store only once the server has
// answered it from the domain.
func TestWriterConfirmsAfterBarrier(t *testing.T) {
	domain := jid.MustParse("sms.example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := &memQueue{written: make(chan int64, 4), items: []mapping.Queued{
		{ID: 1, Stanza: []byte(`<message xmlns="jabber:component:accept" to="a@example.test" from="1@sms.example.test" id="m1"><body>one</body></message>`)},
		{ID: 2, Stanza: []byte(`<message xmlns="jabber:component:accept" to="a@example.test" from="2@sms.example.test" id="m2"><body>two</body></message>`)},
	}}
	c := &Conn{Domain: domain}
	s, server := pipeSession(t, ctx, c)
	c.Attach(s)
	var written [][]mapping.Queued
	w := &Writer{
		Conn: c, Queue: q, Wake: make(chan struct{}), Poll: time.Hour,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Persist:   func(ctx context.Context, f func(context.Context) error) { f(ctx) },
		OnWritten: func(b []mapping.Queued) { written = append(written, b) },
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()

	read := newStanzaReader(server)
	for i, want := range []string{
		`<message xmlns="jabber:component:accept" to="a@example.test" from="1@sms.example.test" id="m1"><body>one</body></message>`,
		`<message xmlns="jabber:component:accept" to="a@example.test" from="2@sms.example.test" id="m2"><body>two</body></message>`,
	} {
		if got, _ := read.next(t); got != want {
			t.Errorf("stanza %d\n%s\nwant\n%s", i, got, want)
		}
	}
	got, id := read.next(t)
	if want := `<iq type="get" id="` + id + `" from="sms.example.test" to="sms.example.test"><ping xmlns="urn:xmpp:ping"></ping></iq>`; got != want || !strings.HasPrefix(id, "barrier-") {
		t.Errorf("ping\n%s\nwant\n%s", got, want)
	}
	select {
	case up := <-q.written:
		t.Fatalf("written up to %d before the server answered", up)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := io.WriteString(server, `<iq type="result" id="`+id+`" from="sms.example.test" to="sms.example.test"/>`); err != nil {
		t.Fatal(err)
	}
	if up := <-q.written; up != 2 {
		t.Errorf("written up to %d, want 2", up)
	}
	stop()
	<-done
	if len(written) != 1 || len(written[0]) != 2 {
		t.Errorf("OnWritten got %d batches (%v), want one of 2", len(written), written)
	}
}

var _ net.Conn = writeDeadlineConn{}

// stanzaReader reads top-level elements one after the other from a stream
// (readStanza's decoder reads ahead, so it reads only one).
type stanzaReader struct {
	d   *xml.Decoder
	raw *bytes.Buffer
	off int64
}

func newStanzaReader(r io.Reader) *stanzaReader {
	raw := new(bytes.Buffer)
	return &stanzaReader{d: xml.NewDecoder(io.TeeReader(r, raw)), raw: raw}
}

// next returns the next element, as written, and its id.
func (s *stanzaReader) next(t *testing.T) (string, string) {
	t.Helper()
	depth := 0
	var id string
	for {
		tok, err := s.d.RawToken()
		if err != nil {
			t.Fatalf("reading a stanza: %v (read %q)", err, s.raw.String())
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				for _, a := range tok.Attr {
					if a.Name.Local == "id" {
						id = a.Value
					}
				}
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				end := s.d.InputOffset()
				out := string(s.raw.Bytes()[s.off:end])
				s.off = end
				return out, id
			}
		}
	}
}

// Batches written while a barrier is in flight wait for it to be answered,
// and then share the next one: no ping is written per batch.
func TestWriterOneBarrierForQueuedBatches(t *testing.T) {
	domain := jid.MustParse("sms.example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := func(n int) string {
		return fmt.Sprintf(`<message xmlns="jabber:component:accept" to="a@example.test" from="%d@sms.example.test" id="m%d"><body>%d</body></message>`, n, n, n)
	}
	q := &memQueue{written: make(chan int64, 4), items: []mapping.Queued{{ID: 1, Stanza: []byte(msg(1))}}}
	c := &Conn{Domain: domain}
	s, server := pipeSession(t, ctx, c)
	c.Attach(s)
	wake := make(chan struct{}, 1)
	w := &Writer{
		Conn: c, Queue: q, Wake: wake, Poll: time.Hour,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Persist: func(ctx context.Context, f func(context.Context) error) { f(ctx) },
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()

	read := newStanzaReader(server)
	expect := func(want string) string {
		t.Helper()
		got, id := read.next(t)
		if strings.HasPrefix(want, "<iq") {
			want = strings.Replace(want, "ID", id, 1)
		}
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		return id
	}
	const ping = `<iq type="get" id="ID" from="sms.example.test" to="sms.example.test"><ping xmlns="urn:xmpp:ping"></ping></iq>`
	answer := func(id string) {
		t.Helper()
		if _, err := io.WriteString(server, `<iq type="result" id="`+id+`" from="sms.example.test" to="sms.example.test"/>`); err != nil {
			t.Fatal(err)
		}
	}
	expect(msg(1))
	first := expect(ping)
	for _, n := range []int{2, 3} { // two batches, while the first ping waits
		q.mu.Lock()
		q.items = append(q.items, mapping.Queued{ID: int64(n), Stanza: []byte(msg(n))})
		q.mu.Unlock()
		select {
		case wake <- struct{}{}:
		default: // a wake-up is pending
		}
		expect(msg(n))
	}
	answer(first)
	if up := <-q.written; up != 1 {
		t.Errorf("written up to %d, want 1", up)
	}
	// No ping came between the two batches. The confirmation after the
	// first ping covers both, or, if it began before the writer queued the
	// second, the one after it does.
	for up := int64(0); up != 3; {
		answer(expect(ping))
		if up = <-q.written; up != 2 && up != 3 {
			t.Fatalf("written up to %d, want 2 or 3", up)
		}
	}
}

// A barrier covers the batches queued behind the first on its session, up
// to the first of another session.
func TestCoalesce(t *testing.T) {
	s1, s2 := new(xmpp.Session), new(xmpp.Session)
	for _, tc := range []struct {
		name       string
		queued     []*barrierWait
		close      bool
		last, next int64 // 0: none
	}{
		{name: "alone", last: 1},
		{name: "same session", queued: []*barrierWait{{last: 2, sess: s1}, {last: 3, sess: s1}}, last: 3},
		{name: "another session", queued: []*barrierWait{{last: 2, sess: s1}, {last: 3, sess: s2}, {last: 4, sess: s2}}, last: 2, next: 3},
		{name: "closed", queued: []*barrierWait{{last: 2, sess: s1}}, close: true, last: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waits := make(chan *barrierWait, len(tc.queued))
			for _, bw := range tc.queued {
				waits <- bw
			}
			if tc.close {
				close(waits)
			}
			last, next := coalesce(&barrierWait{last: 1, sess: s1}, waits)
			var gotNext int64
			if next != nil {
				gotNext = next.last
			}
			if last.last != tc.last || gotNext != tc.next {
				t.Errorf("coalesce = %d, next %d; want %d, next %d", last.last, gotNext, tc.last, tc.next)
			}
		})
	}
}
