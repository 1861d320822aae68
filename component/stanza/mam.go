package stanza

import (
	"bytes"
	"encoding/xml"
)

// MAMResult is an XEP-0313 result: an archived message, forwarded
// (XEP-0297) in a message to the one who asked.
type MAMResult struct {
	XMLName xml.Name `xml:"message"`
	From    string   `xml:"from,attr"`
	To      string   `xml:"to,attr"`
	Result  struct {
		XMLName   xml.Name  `xml:"urn:xmpp:mam:2 result"`
		QueryID   string    `xml:"queryid,attr,omitempty"`
		ID        string    `xml:"id,attr"`
		Forwarded Forwarded `xml:"urn:xmpp:forward:0 forwarded"`
	}
}

// Forwarded is an XEP-0297 forwarded message, with when it was sent.
type Forwarded struct {
	Delay   Delay  `xml:"urn:xmpp:delay delay"`
	Message []byte `xml:",innerxml"` // a rendered <message/> in jabber:client (ForwardedMessage)
}

// ForwardedMessage renders m for a Forwarded: in the jabber:client
// namespace, as XEP-0297 wants.
func ForwardedMessage(m Message) []byte {
	return bytes.Replace(Render(m), []byte("<message"), []byte(`<message xmlns="jabber:client"`), 1)
}

// MAMFin ends an XEP-0313 query's results, with the page's bounds
// (XEP-0059).
type MAMFin struct {
	XMLName  xml.Name `xml:"urn:xmpp:mam:2 fin"`
	Complete bool     `xml:"complete,attr,omitempty"`
	Set      RSMSet   `xml:"http://jabber.org/protocol/rsm set"`
}

// RSMSet is an XEP-0059 result set's bounds.
type RSMSet struct {
	First string `xml:"first,omitempty"`
	Last  string `xml:"last,omitempty"`
	Count int    `xml:"count"`
}
