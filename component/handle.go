package component

import (
	"encoding/xml"

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
	var in inStanza
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t))
	if err := d.Decode(&in); err != nil {
		return err // malformed XML: the stream cannot continue
	}
	if in.From == "" {
		// RFC 6120 8.1.2.1: no from means the stream's peer, here the
		// server on its own behalf or routing our own stanza back to us.
		in.From = g.domain.String()
	}
	from, err := jid.Parse(in.From)
	if err != nil {
		g.log.Warn("dropping stanza with an invalid from", "from", in.From, "id", in.ID)
		return nil
	}
	to, err := jid.Parse(in.To)
	if err != nil || to.Domainpart() != g.domain.Domainpart() {
		g.reply(t, in, from, g.domain, newError("modify", "jid-malformed", "invalid recipient address"))
		return nil
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

// reply answers in with an error of the same stanza kind. Errors are never
// answered, to avoid loops.
func (g *Gateway) reply(t xmlstream.Encoder, in inStanza, from, to jid.JID, e *stanzaError) {
	if in.Type == "error" {
		return
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
