package component

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
)

var _ xmpp.Handler = (*Gateway)(nil)

// HandleXMPP is called by the session's read loop for every stanza. It
// reads the stanza whole (up to the size limit), then routes it (see
// routes.go). It never waits on a provider. It returns an error only when
// the stream itself is broken (XML that is not well-formed, or the
// connection), never for a well-formed stanza, whatever its values: that
// would close the session.
func (g *Gateway) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local == "iq" {
		defer g.keepFromParseable(start)
	}
	read := time.Now()
	w := sessionWriter{g: g, t: t}
	lim := &limitReader{r: xmlstream.MultiReader(xmlstream.Token(*start), t), left: g.o.MaxStanza}
	tokens, err := readWholeStanza(lim)
	if err != nil {
		if errors.Is(err, errTooBig) {
			return g.tooBig(w, lim, start)
		}
		return g.malformed(err)
	}
	in := headerOf(*start)
	if in.From == "" {
		// RFC 6120 8.1.2.1: no from means the stream's peer, here the
		// server on its own behalf or routing our own stanza back to us.
		in.From = g.domain.String()
	}
	from, err := g.jids.parse(in.From)
	if err != nil {
		g.quiet.Warn("dropping stanza with an invalid from", "from", in.From, "stanza_id", in.ID)
		g.answerUnaddressable(w, in)
		return nil
	}
	to, err := g.jids.parse(in.To)
	if err != nil || to.Domainpart() != g.domain.Domainpart() {
		if err == nil {
			// ejabberd routes every domain of a listener to each connection
			// unless the listener sets global_routes: false.
			g.log.Warn("stanza for another domain refused; on ejabberd set global_routes: false on the ejabberd_service listener",
				"to", in.To, "stanza_id", in.ID)
		}
		g.reply(w, in, from, g.domain, newError("modify", "jid-malformed", "invalid recipient address"))
		return nil
	}
	defer g.recoverStanza(w, in, from, to)
	s := router.NewStanza(tokens, from, to, g.target(from, to))
	s.Read = read
	g.router.Dispatch(g.readCtx(), w, s)
	return nil
}

// recoverStanza ends a panic in a stanza's handling on the read loop,
// which nothing else recovers (the process would exit): a well-formed
// stanza never ends the stream. The stanza gets internal-server-error, and
// the panic is logged with its stack.
func (g *Gateway) recoverStanza(w router.Writer, in inStanza, from, to jid.JID) {
	r := recover()
	if r == nil {
		return
	}
	g.Stats.Panics.Add(1)
	g.countError("panic")
	g.log.Error("handling a stanza panicked; answered internal-server-error", "stanza_id", in.ID, "from", from.String(),
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	g.reply(w, in, from, to, newError("cancel", "internal-server-error", ""))
}

// keepFromParseable blanks, in start, every attribute named from in a
// namespace of its own, and the from if it does not parse. On a stream
// whose stanzas are in jabber:client, mellium answers an IQ get or set
// itself when no answer was written during the call (one the intake holds
// back for earlier commits is not), addressed to the first attribute named
// from, in any namespace, once the handler returns; it ends the session if
// that does not parse, and a namespaced one would address the answer to
// whomever it names.
func (g *Gateway) keepFromParseable(start *xml.StartElement) {
	for i, a := range start.Attr {
		if a.Name.Local != "from" || a.Value == "" {
			continue
		}
		if a.Name.Space != "" {
			start.Attr[i].Value = ""
		} else if _, err := g.jids.parse(a.Value); err != nil {
			start.Attr[i].Value = ""
		}
	}
}

// readStanza reads the tokens of one stanza, from its start element to its
// end, each a copy.
func readWholeStanza(r xml.TokenReader) ([]xml.Token, error) {
	tokens := make([]xml.Token, 0, 16)
	depth := 0
	for {
		tok, err := r.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		tokens = append(tokens, xml.CopyToken(tok))
		if depth == 0 {
			return tokens, nil
		}
	}
}

// target says what to is, for a stanza from from: the gateway, a room, an
// occupant or a contact. A team inbox's room (a name in the config) is one
// only for a sender allowed to use the gateway: to anyone else its JID is
// a contact's, as any other name is, so that no answer tells which names
// are inboxes.
func (g *Gateway) target(from, to jid.JID) router.Target {
	if to.Localpart() == "" {
		return router.Gateway
	}
	if _, ok := g.inboxes[to.Localpart()]; ok && g.allowed(from.Bare().String()) {
		if to.Resourcepart() != "" {
			return router.Occupant
		}
		return router.Room
	}
	if g.roomer != nil {
		if remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to)); err == nil && g.isRoom(remote) {
			if to.Resourcepart() != "" {
				return router.Occupant
			}
			return router.Room
		}
	}
	return router.Contact
}

// sessionWriter writes a handler's answers to the session's stream.
type sessionWriter struct {
	g *Gateway
	t xmlstream.TokenWriter
}

// Encode writes v as raw tokens; while stanzas read before it wait for
// their commit, it is written after them (see intake).
func (w sessionWriter) Encode(v any) {
	if !w.g.afterCommits(tokenWriter(w), v) {
		w.g.encode(w.t, v)
	}
}

// tokenWriter writes to the stanza's writer at once.
type tokenWriter sessionWriter

// Encode writes v as raw tokens.
func (w tokenWriter) Encode(v any) { w.g.encode(w.t, v) }

// tooBig skips the rest of a stanza over the size limit and refuses it.
func (g *Gateway) tooBig(t router.Writer, lim *limitReader, start *xml.StartElement) error {
	if err := lim.skipRest(); err != nil {
		return g.malformed(err)
	}
	in := headerOf(*start)
	g.quiet.Warn("stanza over the size limit refused", "from", in.From, "stanza_id", in.ID, "limit", g.o.MaxStanza)
	from, err := g.jids.parse(in.From)
	if err != nil {
		return nil
	}
	to, err := g.jids.parse(in.To)
	if err != nil {
		to = g.domain
	}
	g.reply(t, in, from, to, newError("modify", "policy-violation",
		fmt.Sprintf("stanza over the gateway's limit of %d bytes", g.o.MaxStanza)))
	return nil
}

// malformed counts and logs err, XML from the server that is not
// well-formed, and returns it: the stream cannot continue.
func (g *Gateway) malformed(err error) error {
	g.Stats.Malformed.Add(1)
	g.countError("malformed")
	g.log.Error("malformed XML from the server; reconnecting", "err", err)
	return err
}

// answerUnaddressable answers an IQ request (a get or a set; never a
// result or an error, nor any other stanza) whose from is not a JID the
// gateway can parse (servers' and mellium's address rules may differ).
// The error goes back to the from as written: left unanswered, the session
// would answer it itself, fail to parse the address and end the stream.
func (g *Gateway) answerUnaddressable(t router.Writer, in inStanza) {
	if in.XMLName.Local != "iq" || (in.Type != "get" && in.Type != "set") {
		return
	}
	g.countRefusal("jid-malformed")
	t.Encode(iq{Type: "error", ID: in.ID, From: g.domain.String(), To: in.From,
		Error: newError("modify", "jid-malformed", "invalid sender address")})
}

// countRefusal counts a stanza answered with an error of condition cond.
func (g *Gateway) countRefusal(cond string) {
	g.Stats.Refused.Add(1)
	if g.o.Metrics != nil {
		g.o.Metrics.Refusals.WithLabelValues(g.name, cond).Inc()
	}
}

// reply answers in with an error of the same stanza kind, unless in may
// not be answered: an error, an IQ result or a headline
// (router.Answerable).
func (g *Gateway) reply(t router.Writer, in inStanza, from, to jid.JID, e *stanzaError) {
	if !router.Answerable(router.KindOf(in.XMLName.Local), in.Type) {
		return
	}
	g.countRefusal(e.Condition.XMLName.Local)
	var v any
	switch in.XMLName.Local {
	case "message":
		v = message{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	case "presence":
		v = presence{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	default:
		v = iq{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	}
	t.Encode(v)
}

// encode writes v to t as raw tokens.
func (g *Gateway) encode(t xmlstream.TokenWriter, v any) {
	if _, err := xmlstream.Copy(t, newRawReader(render(v))); err != nil {
		g.log.Warn("writing reply failed", "err", err)
	}
}
