package component

import (
	"encoding/xml"
	"time"
)

// inStanza is a received stanza as the core's handlers work on it: its
// addressing from the start element (headerOf), each element read by its
// XEP's part (stanza_parts.go), and an IQ's payload.
type inStanza struct {
	XMLName            xml.Name
	From, To, ID, Type string

	Body         *string
	Request      *struct{}  // XEP-0184
	Markable     *struct{}  // XEP-0333
	Addresses    *addresses // XEP-0033
	OOB          []oob      // XEP-0066
	Reply        *replyRef  // XEP-0461
	Fallbacks    []fallback // XEP-0428
	OldFallbacks []fallback // XEP-0428 before 0.2 (slixmpp 1.8)
	Retract      *replace   // XEP-0424
	ApplyTo      *applyTo   // XEP-0424 before 1.0
	Reactions    *reactions // XEP-0444
	Replace      *replace   // XEP-0308
	OriginID     *originID  // XEP-0359
	Composing    *struct{}  // XEP-0085
	Displayed    *replace   // XEP-0333: the id of the last message read
	Payload      payload    // an IQ's payload

	read time.Time // when the gateway began reading it
}

// payload is what the core's IQ handlers read of an IQ's payload.
type payload struct {
	XMLName xml.Name
	Prompt  string    `xml:"prompt"`
	Remove  *struct{} `xml:"remove"` // jabber:iq:register
}
