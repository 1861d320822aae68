package component

import (
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

var _ xmpp.Handler = (*Gateway)(nil)

// HandleXMPP is called by the session's read loop for every stanza. It never
// waits on a provider: messages are stored and handed to lane workers.
// Replies go to t. It returns an error only when the stream itself is broken,
// never for a bad stanza (that would close the session).
func (g *Gateway) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	in := inStanza{read: time.Now()}
	lim := &limitReader{r: xmlstream.MultiReader(xmlstream.Token(*start), t), left: g.o.MaxStanza}
	spy := &serverSpy{r: lim}
	if err := xml.NewTokenDecoder(spy).Decode(&in); err != nil {
		switch {
		case errors.Is(err, errTooBig):
			return g.tooBig(t, lim, *start)
		case lim.err != nil:
			// The stream itself failed: XML that is not well-formed, or
			// the connection.
			g.Stats.Malformed.Add(1)
			g.countError("malformed")
			g.log.Error("malformed XML from the server; reconnecting", "err", err)
			return err // the stream cannot continue
		}
		// Well-formed, but a value does not fit its type (an integer
		// attribute that does not parse): refuse this stanza alone. The
		// session's reader skips the rest of it.
		return g.badValue(t, *start, err)
	}
	if in.From == "" {
		// RFC 6120 8.1.2.1: no from means the stream's peer, here the
		// server on its own behalf or routing our own stanza back to us.
		in.From = g.domain.String()
	}
	from, err := jid.Parse(in.From)
	if err != nil {
		g.log.Warn("dropping stanza with an invalid from", "from", in.From, "stanza_id", in.ID)
		g.answerUnaddressable(t, in)
		return nil
	}
	to, err := jid.Parse(in.To)
	if err != nil || to.Domainpart() != g.domain.Domainpart() {
		if err == nil {
			// ejabberd routes every domain of a listener to each connection
			// unless the listener sets global_routes: false.
			g.log.Warn("stanza for another domain refused; on ejabberd set global_routes: false on the ejabberd_service listener",
				"to", in.To, "stanza_id", in.ID)
		}
		g.reply(t, in, from, g.domain, newError("modify", "jid-malformed", "invalid recipient address"))
		return nil
	}
	if g.privilegeStanza(start.Name.Local, in, spy, from) {
		return nil // XEP-0356: the server's grant, or its answer to a roster push
	}
	switch start.Name.Local {
	case "message":
		g.handleMessage(t, in, from, to)
	case "presence":
		g.handlePresence(t, in, from, to)
	case "iq":
		g.handleIQ(t, in, from, to)
	}
	return nil
}

// tooBig skips the rest of a stanza over the size limit and refuses it.
func (g *Gateway) tooBig(t xmlstream.TokenReadEncoder, lim *limitReader, start xml.StartElement) error {
	if err := lim.skipRest(); err != nil {
		g.Stats.Malformed.Add(1)
		return err
	}
	in := headerOf(start)
	g.log.Warn("stanza over the size limit refused", "from", in.From, "stanza_id", in.ID, "limit", g.o.MaxStanza)
	from, err := jid.Parse(in.From)
	if err != nil {
		return nil
	}
	to, err := jid.Parse(in.To)
	if err != nil {
		to = g.domain
	}
	g.reply(t, in, from, to, newError("modify", "policy-violation",
		fmt.Sprintf("stanza over the gateway's limit of %d bytes", g.o.MaxStanza)))
	return nil
}

// badValue refuses a well-formed stanza that could not be decoded because
// of a bad value in it, with modify/bad-request.
func (g *Gateway) badValue(t xmlstream.TokenReadEncoder, start xml.StartElement, err error) error {
	in := headerOf(start)
	g.countError("bad_value")
	g.log.Warn("stanza with a bad value refused", "from", in.From, "stanza_id", in.ID, "err", err)
	from, perr := jid.Parse(in.From)
	if perr != nil {
		g.answerUnaddressable(t, in)
		return nil
	}
	to, perr := jid.Parse(in.To)
	if perr != nil {
		to = g.domain
	}
	g.reply(t, in, from, to, newError("modify", "bad-request", "a value in this stanza is not valid"))
	return nil
}

// answerUnaddressable answers an IQ request whose from is not a JID the
// gateway can parse (servers' and mellium's address rules may differ). The
// error goes back to the from as written: left unanswered, the session
// would answer it itself, fail to parse the address and end the stream.
func (g *Gateway) answerUnaddressable(t xmlstream.Encoder, in inStanza) {
	if in.XMLName.Local != "iq" || (in.Type != "get" && in.Type != "set") {
		return
	}
	g.Stats.Refused.Add(1)
	g.encode(t, iq{Type: "error", ID: in.ID, From: g.domain.String(), To: in.From,
		Error: newError("modify", "jid-malformed", "invalid sender address")})
}

// reply answers in with an error of the same stanza kind. Errors are never
// answered, to avoid loops.
func (g *Gateway) reply(t xmlstream.Encoder, in inStanza, from, to jid.JID, e *stanzaError) {
	if in.Type == "error" {
		return
	}
	g.Stats.Refused.Add(1)
	if g.o.Metrics != nil {
		g.o.Metrics.Refusals.WithLabelValues(g.name, e.Condition.XMLName.Local).Inc()
	}
	var v any
	switch in.XMLName.Local {
	case "message":
		v = message{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	case "presence":
		v = presence{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	default:
		v = iq{Type: "error", ID: in.ID, From: to.String(), To: from.String(), Error: e}
	}
	g.encode(t, v)
}

// encode writes v to t as raw tokens.
func (g *Gateway) encode(t xmlstream.TokenWriter, v any) {
	if _, err := xmlstream.Copy(t, newRawReader(render(v))); err != nil {
		g.log.Warn("writing reply failed", "err", err)
	}
}
