package xmpptest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

const nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"

// Stanza is a received stanza: its raw XML plus a parsed summary.
type Stanza struct {
	Name string // "message", "presence" or "iq"
	Type string // as sent; "" means normal (message) or available (presence)
	ID   string
	From string // "" if the server omitted it
	To   string
	// XML is the whole stanza re-encoded by encoding/xml: equal in meaning,
	// not byte for byte (every element carries its xmlns, attribute order and
	// quoting may differ).
	XML string

	Body    string // first <body/> of a message
	Subject string
	Thread  string

	ErrorType      string // type of <error/>, e.g. "wait", "cancel"
	ErrorCondition string // e.g. "remote-server-timeout", "service-unavailable"
	ErrorText      string
}

// String returns the stanza's XML.
func (s Stanza) String() string { return s.XML }

// Client is a c2s test client logged in to a server without TLS.
// Everything it receives is queued (unbounded) for Next and NextMessage.
type Client struct {
	JID jid.JID // full JID bound by the server

	session *xmpp.Session
	conn    net.Conn
	q       queue

	serveDone chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// Dial connects to addr, authenticates as j (SCRAM-SHA-1 or PLAIN, no TLS),
// binds j's resource (a random one if j is bare; the server may still change
// it, see Client.JID), starts reading in a goroutine
// and sends initial presence. It returns once the server has processed the
// presence, so stanzas sent to the user's bare JID afterwards reach it.
func Dial(ctx context.Context, addr string, j jid.JID, password string) (*Client, error) {
	ctx, release := detach(ctx)
	defer release()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("xmpptest: dial %s: %w", addr, err)
	}
	bind := xmpp.BindResource()
	if j.Resourcepart() != "" {
		bind = bindResource(j.Resourcepart())
	}
	// Secure: SASL refuses to run on a stream it doesn't think is secure.
	session, err := xmpp.NewSession(ctx, j.Domain(), j, conn, xmpp.Secure,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: []xmpp.StreamFeature{
				xmpp.SASL("", password, sasl.ScramSha1, sasl.Plain),
				bind,
			}}
		}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("xmpptest: login %s at %s: %w", j, addr, err)
	}
	c := &Client{
		JID:       session.LocalAddr(),
		session:   session,
		conn:      conn,
		serveDone: make(chan struct{}),
	}
	c.q.init()
	go func() {
		c.serveErr = session.Serve(xmpp.HandlerFunc(c.handle))
		// Both streams are closed now (Serve closes ours): drop the connection
		// so the server doesn't wait for it (Prosody waits on shutdown).
		conn.Close()
		c.q.close()
		close(c.serveDone)
	}()
	if err := session.Send(ctx, stanza.Presence{}.Wrap(nil)); err != nil {
		c.Close()
		return nil, fmt.Errorf("xmpptest: initial presence: %w", err)
	}
	// The server handles a connection's stanzas in order: once the ping is
	// answered, the presence has been processed.
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// DialT is Dial for tests: it fails the test on error and closes the client
// in t.Cleanup.
func DialT(t testing.TB, addr string, j jid.JID, password string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, j, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Session returns the underlying mellium session (for SendIQ and the like).
// Do not call its Serve: the client already does.
func (c *Client) Session() *xmpp.Session { return c.session }

// Ping sends an XEP-0199 ping to the server and waits for the answer. Since the
// server handles a connection's stanzas in order, this is a barrier: stanzas
// sent before it have been processed once it returns.
func (c *Client) Ping(ctx context.Context) error {
	ctx, release := detach(ctx)
	defer release()
	if err := ping.Send(ctx, c.session, c.JID.Domain()); err != nil {
		return fmt.Errorf("xmpptest: ping %s: %w", c.JID.Domain(), err)
	}
	return nil
}

// Send writes one raw stanza, e.g.
// "<message to='bob@example.test' type='chat'><body>hi</body></message>".
// The XML is checked before anything is written; the jabber:client namespace
// and an id are added if missing.
func (c *Client) Send(ctx context.Context, raw string) error {
	toks, err := parseElement(raw)
	if err != nil {
		return err
	}
	ctx, release := detach(ctx)
	defer release()
	return c.session.Send(ctx, &sliceReader{toks: toks})
}

// detach returns a context that is canceled with ctx until release is
// called, and never after. mellium watches the context of a call in a
// goroutine that may run only after the call returned; if ctx is canceled by
// then (e.g. a deferred cancel), it sets a deadline in the past on the
// connection, which can break a concurrent read or write.
func detach(ctx context.Context) (context.Context, func()) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	return dctx, func() { stop() }
}

// Next returns the next received stanza (message, presence or iq) in order.
// It returns ctx.Err() when ctx is done first, and an error wrapping io.EOF
// once the stream is closed and every stanza has been returned.
func (c *Client) Next(ctx context.Context) (Stanza, error) {
	st, err := c.q.pop(ctx)
	if errors.Is(err, io.EOF) && c.serveErr != nil {
		err = fmt.Errorf("%w (%w)", err, c.serveErr)
	}
	return st, err
}

// Unread puts stanzas back in front of those not read yet, in their
// order: a helper that waited for one answer gives back what came before it.
func (c *Client) Unread(sts ...Stanza) {
	if len(sts) == 0 {
		return
	}
	c.q.mu.Lock()
	c.q.items = append(append([]Stanza(nil), sts...), c.q.items...)
	c.q.mu.Unlock()
	c.q.notify()
}

// NextMessage is like Next but skips presences and iqs.
func (c *Client) NextMessage(ctx context.Context) (Stanza, error) {
	for {
		st, err := c.Next(ctx)
		if err != nil || st.Name == "message" {
			return st, err
		}
	}
}

// Close ends the stream, waits briefly for the server to end its side and
// closes the connection. Stanzas already received stay readable with Next.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		// Not SetCloseDeadline: in mellium v0.23.0 it races with Serve.
		c.closeErr = c.session.Close()
		select {
		case <-c.serveDone:
		case <-time.After(2 * time.Second):
		}
		if err := c.conn.Close(); err != nil && c.closeErr == nil && !errors.Is(err, net.ErrClosed) {
			c.closeErr = err
		}
		<-c.serveDone
	})
	return c.closeErr
}

// handle runs on the read loop for every incoming stanza.
func (c *Client) handle(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	// mellium blanks a from equal to our bare JID (e.g. roster pushes): restore it.
	s := start.Copy()
	for i, a := range s.Attr {
		if a.Name.Space == "" && a.Name.Local == "from" && a.Value == "" {
			s.Attr[i].Value = c.JID.Bare().String()
		}
	}
	st, err := readStanza(s, t)
	if err != nil {
		return err
	}
	c.q.push(st)
	// Answer iq get/set so the sender doesn't wait (mellium would otherwise
	// send the same reply itself).
	if st.Name == "iq" && (st.Type == "get" || st.Type == "set") {
		to, _ := jid.Parse(st.From)
		_, err := xmlstream.Copy(t, stanza.IQ{ID: st.ID, Type: stanza.ErrorIQ, To: to}.Wrap(
			stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}.TokenReader()))
		return err
	}
	return nil
}

// readStanza re-encodes start and the rest of the element from r, then parses
// a summary of it.
func readStanza(start xml.StartElement, r xml.TokenReader) (Stanza, error) {
	var buf bytes.Buffer
	e := xml.NewEncoder(&buf)
	if err := e.EncodeToken(cleanStart(start)); err != nil {
		return Stanza{}, err
	}
	for {
		tok, err := r.Token()
		if tok != nil {
			if s, ok := tok.(xml.StartElement); ok {
				tok = cleanStart(s)
			}
			if err := e.EncodeToken(tok); err != nil {
				return Stanza{}, err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stanza{}, err
		}
	}
	if err := e.Flush(); err != nil {
		return Stanza{}, err
	}
	st := Stanza{Name: start.Name.Local, XML: buf.String()}
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "type":
			st.Type = a.Value
		case "id":
			st.ID = a.Value
		case "from":
			st.From = a.Value
		case "to":
			st.To = a.Value
		}
	}
	var sum struct {
		Body    []string `xml:"body"`
		Subject []string `xml:"subject"`
		Thread  string   `xml:"thread"`
		Error   *struct {
			Type  string `xml:"type,attr"`
			Inner []struct {
				XMLName xml.Name
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"error"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &sum); err != nil {
		return Stanza{}, fmt.Errorf("xmpptest: parsing received stanza: %w", err)
	}
	if len(sum.Body) > 0 {
		st.Body = sum.Body[0]
	}
	if len(sum.Subject) > 0 {
		st.Subject = sum.Subject[0]
	}
	st.Thread = sum.Thread
	if sum.Error != nil {
		st.ErrorType = sum.Error.Type
		for _, in := range sum.Error.Inner {
			switch {
			case in.XMLName.Space != nsStanzas:
			case in.XMLName.Local == "text":
				st.ErrorText = in.Text
			case st.ErrorCondition == "":
				st.ErrorCondition = in.XMLName.Local
			}
		}
	}
	return st, nil
}

// cleanStart drops namespace declarations: names are already resolved and
// encoding/xml writes xmlns itself, so keeping them would duplicate them.
func cleanStart(s xml.StartElement) xml.StartElement {
	attrs := make([]xml.Attr, 0, len(s.Attr))
	for _, a := range s.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		attrs = append(attrs, a)
	}
	s.Attr = attrs
	return s
}

// parseElement parses raw, which must hold exactly one element, into tokens.
func parseElement(raw string) ([]xml.Token, error) {
	d := xml.NewDecoder(strings.NewReader(raw))
	var toks []xml.Token
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("xmpptest: bad stanza XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			tok = cleanStart(t.Copy())
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("xmpptest: bad stanza XML: text outside the element")
				}
				continue
			}
			tok = t.Copy()
		default: // comments, processing instructions, directives
			continue
		}
		toks = append(toks, tok)
	}
	if roots != 1 {
		return nil, fmt.Errorf("xmpptest: bad stanza XML: want one element, got %d", roots)
	}
	return toks, nil
}

type sliceReader struct{ toks []xml.Token }

func (r *sliceReader) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	t := r.toks[0]
	r.toks = r.toks[1:]
	return t, nil
}

// queue is an unbounded FIFO, so a burst never blocks the read loop.
type queue struct {
	mu     sync.Mutex
	items  []Stanza
	signal chan struct{} // has a token when items may be non-empty
	closed chan struct{}
}

func (q *queue) init() {
	q.signal = make(chan struct{}, 1)
	q.closed = make(chan struct{})
}

func (q *queue) push(s Stanza) {
	q.mu.Lock()
	q.items = append(q.items, s)
	q.mu.Unlock()
	q.notify()
}

func (q *queue) notify() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) close() { close(q.closed) }

func (q *queue) pop(ctx context.Context) (Stanza, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			s := q.items[0]
			q.items[0] = Stanza{}
			q.items = q.items[1:]
			more := len(q.items) > 0
			q.mu.Unlock()
			if more {
				q.notify() // wake another waiter
			}
			return s, nil
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-q.closed:
			q.mu.Lock()
			empty := len(q.items) == 0
			q.mu.Unlock()
			if empty {
				return Stanza{}, fmt.Errorf("xmpptest: stream closed: %w", io.EOF)
			}
		case <-ctx.Done():
			return Stanza{}, ctx.Err()
		}
	}
}
