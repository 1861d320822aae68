package component

import (
	"bytes"
	"encoding/xml"
	"io"
	"time"
)

// Namespaces used by the gateway.
const (
	nsStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsReceipts  = "urn:xmpp:receipts"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsDiscoItem = "http://jabber.org/protocol/disco#items"
	nsGateway   = "jabber:iq:gateway"
	nsPing      = "urn:xmpp:ping"
	nsVersion   = "jabber:iq:version"
	nsRegister  = "jabber:iq:register"
	nsCorrect   = "urn:xmpp:message-correct:0"
	nsOOB       = "jabber:x:oob"
	nsNick      = "http://jabber.org/protocol/nick"
	nsChatState = "http://jabber.org/protocol/chatstates"
	nsCommands  = "http://jabber.org/protocol/commands"
	nsMarkers   = "urn:xmpp:chat-markers:0"
	nsAddress   = "http://jabber.org/protocol/address"
	nsData      = "jabber:x:data"
)

// message is an outgoing <message/>.
type message struct {
	XMLName  xml.Name     `xml:"message"`
	Type     string       `xml:"type,attr,omitempty"`
	ID       string       `xml:"id,attr,omitempty"`
	From     string       `xml:"from,attr"`
	To       string       `xml:"to,attr"`
	Subject  *string      `xml:"subject,omitempty"`
	Body     string       `xml:"body,omitempty"`
	Replace  *replace     `xml:"urn:xmpp:message-correct:0 replace,omitempty"`
	Retract  *replace     `xml:"urn:xmpp:message-retract:1 retract,omitempty"`
	Reply    *replyRef    `xml:"urn:xmpp:reply:0 reply,omitempty"`
	Fallback *fallback    `xml:"urn:xmpp:fallback:0 fallback,omitempty"`
	Reacts   *reactions   `xml:"urn:xmpp:reactions:0 reactions,omitempty"`
	Store    *struct{}    `xml:"urn:xmpp:hints store,omitempty"`
	OriginID *originID    `xml:"urn:xmpp:sid:0 origin-id,omitempty"`
	StanzaID *stanzaID    `xml:"urn:xmpp:sid:0 stanza-id,omitempty"`
	Delay    *delay       `xml:"urn:xmpp:delay delay,omitempty"`
	OOB      *oob         `xml:"jabber:x:oob x,omitempty"`
	Received *receipt     `xml:"urn:xmpp:receipts received,omitempty"`
	Marker   *receipt     `xml:"urn:xmpp:chat-markers:0 received,omitempty"`
	Error    *stanzaError `xml:"error,omitempty"`
}

type receipt struct {
	ID string `xml:"id,attr"`
}

// replace marks an XEP-0308 correction of the message with ID.
type replace struct {
	ID string `xml:"id,attr"`
}

// originID is an XEP-0359 origin id: the stable id of a message, the same
// on every copy, so that a client can recognise one written twice.
type originID struct {
	ID string `xml:"id,attr"`
}

// oob is an XEP-0066 out-of-band URL.
type oob struct {
	URL string `xml:"url"`
}

// presence is an outgoing <presence/>.
type presence struct {
	XMLName xml.Name     `xml:"presence"`
	Type    string       `xml:"type,attr,omitempty"`
	ID      string       `xml:"id,attr,omitempty"`
	From    string       `xml:"from,attr"`
	To      string       `xml:"to,attr"`
	Status  string       `xml:"status,omitempty"`
	Nick    string       `xml:"http://jabber.org/protocol/nick nick,omitempty"`
	MUCUser *mucUser     `xml:"http://jabber.org/protocol/muc#user x,omitempty"`
	Avatar  *vcardUpdate `xml:"vcard-temp:x:update x,omitempty"`
	Error   *stanzaError `xml:"error,omitempty"`
}

// iq is an outgoing <iq/>; Payload is already-encoded inner XML.
type iq struct {
	XMLName xml.Name     `xml:"iq"`
	Type    string       `xml:"type,attr"`
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr"`
	To      string       `xml:"to,attr"`
	Payload any          `xml:",omitempty"`
	Error   *stanzaError `xml:"error,omitempty"`
}

// stanzaError is an RFC 6120 stanza error.
type stanzaError struct {
	Type      string    `xml:"type,attr"`
	By        string    `xml:"by,attr,omitempty"`
	Condition condition `xml:""`
	Text      string    `xml:"urn:ietf:params:xml:ns:xmpp-stanzas text,omitempty"`
}

// condition is a defined stanza error condition element.
type condition struct{ XMLName xml.Name }

func newError(typ, cond, text string) *stanzaError {
	return &stanzaError{Type: typ, Condition: condition{xml.Name{Space: nsStanzas, Local: cond}}, Text: text}
}

// render serialises a stanza for the store or the wire.
func render(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		// Only a programming error (an unmarshalable type) gets here.
		panic("component: render: " + err.Error())
	}
	return b
}

// rawReader reads serialised XML as raw tokens, so namespaces are written
// back exactly as they were rendered.
type rawReader struct{ d *xml.Decoder }

func newRawReader(b []byte) rawReader { return rawReader{xml.NewDecoder(bytes.NewReader(b))} }

func (r rawReader) Token() (xml.Token, error) {
	tok, err := r.d.RawToken()
	if err == io.EOF && tok != nil {
		err = nil
	}
	return tok, err
}

// inStanza is what the handlers decode an incoming stanza into.
type inStanza struct {
	XMLName   xml.Name
	From      string     `xml:"from,attr"`
	To        string     `xml:"to,attr"`
	ID        string     `xml:"id,attr"`
	Type      string     `xml:"type,attr"`
	Body      *string    `xml:"body"`
	Request   *struct{}  `xml:"urn:xmpp:receipts request"`
	Markable  *struct{}  `xml:"urn:xmpp:chat-markers:0 markable"`
	Addresses *addresses `xml:"http://jabber.org/protocol/address addresses"`
	OOB       []oob      `xml:"jabber:x:oob x"`
	Reply     *replyRef  `xml:"urn:xmpp:reply:0 reply"`
	Fallbacks []fallback `xml:"urn:xmpp:fallback:0 fallback"`
	Retract   *replace   `xml:"urn:xmpp:message-retract:1 retract"`
	ApplyTo   *applyTo   `xml:"urn:xmpp:fasten:0 apply-to"` // XEP-0424 before 1.0
	// Fallbacks in the namespace XEP-0428 had before 0.2 (slixmpp 1.8).
	OldFallbacks []fallback `xml:"urn:xmpp:feature-fallback:0 fallback"`
	Reactions    *reactions `xml:"urn:xmpp:reactions:0 reactions"`
	Replace      *replace   `xml:"urn:xmpp:message-correct:0 replace"`
	OriginID     *originID  `xml:"urn:xmpp:sid:0 origin-id"`
	Composing    *struct{}  `xml:"http://jabber.org/protocol/chatstates composing"`
	MUC          *mucJoin   `xml:"http://jabber.org/protocol/muc x"`
	Payload      payload    `xml:",any"` // first unknown child: the IQ payload

	read time.Time // when the gateway began reading it
}

type payload struct {
	XMLName xml.Name
	Node    string    `xml:"node,attr"`
	Prompt  string    `xml:"prompt"`
	Remove  *struct{} `xml:"remove"` // jabber:iq:register

	Action    string    `xml:"action,attr"`    // XEP-0050
	SessionID string    `xml:"sessionid,attr"` // XEP-0050
	Form      *dataForm `xml:"jabber:x:data x"`
}
