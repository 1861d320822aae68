package component

import (
	"encoding/xml"
	"time"
)

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
