package component

import (
	"bytes"
	"crypto/hmac"
	"encoding/xml"
	"strings"

	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// A message the user wrote in the network's own app (transports.Inbound's
// Own) is sent, where the user's server grants XEP-0356's message
// permission, as the user's own message to the contact: the server routes
// it as if the user's client had sent it, so XEP-0280 carbons put it in
// every client's history. The server delivers it to the contact, that is,
// back to the gateway: its id is marked (marks.go), and a message with a
// marked id is not relayed again.

// ownIDPrefix starts the id of a user's own message sent as the user.
const ownIDPrefix = "own-"

// ownID is the marked id of the user's own message with provider id id.
func (g *Gateway) ownID(id string) string {
	return ownIDPrefix + id + "-" + g.mark(id)
}

// ownEcho reports whether a message from the user to a contact is one the
// gateway sent as the user (its id is marked): it is not relayed.
func (g *Gateway) ownEcho(from jid.JID, id string) bool {
	if g.markKey.Load() == nil || !strings.HasPrefix(id, ownIDPrefix) || from.Resourcepart() != "" {
		return false
	}
	i := strings.LastIndexByte(id, '-')
	if i <= len(ownIDPrefix) {
		return false
	}
	return hmac.Equal([]byte(id[i+1:]), []byte(g.mark(id[len(ownIDPrefix):i])))
}

// forwarded is XEP-0356's privileged message: <message/> to the user's
// server, with the user's message in <privilege><forwarded/>.
type forwarded struct {
	XMLName   xml.Name `xml:"message"`
	ID        string   `xml:"id,attr"`
	From      string   `xml:"from,attr"`
	To        string   `xml:"to,attr"`
	Privilege struct {
		Forwarded struct {
			// Message is the user's <message/>, rendered, in jabber:client.
			Message []byte `xml:",innerxml"`
		} `xml:"urn:xmpp:forward:0 forwarded"`
	} `xml:"urn:xmpp:privilege:2 privilege"`
}

// ownMessage renders in, the user's own message to contact, as sent by
// user through the server (if its server grants it), or nil.
func (g *Gateway) ownMessage(in transports.Inbound, contact, user string) []byte {
	c := g.contacts()
	if c == nil || g.markKey.Load() == nil || !c.MessageAs(user) || in.Body == "" {
		return nil
	}
	u, err := jid.Parse(user)
	if err != nil {
		return nil
	}
	return sentAs(g.ownID(in.ID), g.domain.String(), u.Domainpart(), user, contact, in.Body)
}

// sentAs renders the privileged message by which the component asks the
// server to send body from user to contact, as if user's client had.
func sentAs(id, component, server, user, contact, body string) []byte {
	f := forwarded{ID: id, From: component, To: server}
	inner := render(message{Type: "chat", ID: id, From: user, To: contact, Body: body, OriginID: &originID{ID: id}})
	f.Privilege.Forwarded.Message = append([]byte(`<message xmlns="jabber:client"`), bytes.TrimPrefix(inner, []byte("<message"))...)
	return render(f)
}
