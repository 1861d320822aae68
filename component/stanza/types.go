package stanza

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// Message is an outgoing <message/>.
type Message struct {
	XMLName  xml.Name   `xml:"message"`
	Type     string     `xml:"type,attr,omitempty"`
	ID       string     `xml:"id,attr,omitempty"`
	From     string     `xml:"from,attr"`
	To       string     `xml:"to,attr"`
	Subject  *string    `xml:"subject,omitempty"`
	Body     string     `xml:"body,omitempty"`
	Nick     string     `xml:"http://jabber.org/protocol/nick nick,omitempty"` // XEP-0172: the sender's name
	Replace  *Replace   `xml:"urn:xmpp:message-correct:0 replace,omitempty"`
	Retract  *Replace   `xml:"urn:xmpp:message-retract:1 retract,omitempty"`
	Reply    *ReplyRef  `xml:"urn:xmpp:reply:0 reply,omitempty"`
	Fallback *Fallback  `xml:"urn:xmpp:fallback:0 fallback,omitempty"`
	Reacts   *Reactions `xml:"urn:xmpp:reactions:0 reactions,omitempty"`
	Store    *struct{}  `xml:"urn:xmpp:hints store,omitempty"`
	OriginID *OriginID  `xml:"urn:xmpp:sid:0 origin-id,omitempty"`
	StanzaID *StanzaID  `xml:"urn:xmpp:sid:0 stanza-id,omitempty"`
	Delay    *Delay     `xml:"urn:xmpp:delay delay,omitempty"`
	OOB      *OOB       `xml:"jabber:x:oob x,omitempty"`
	Received *Receipt   `xml:"urn:xmpp:receipts received,omitempty"`
	Marker   *Receipt   `xml:"urn:xmpp:chat-markers:0 received,omitempty"`
	Error    *Error     `xml:"error,omitempty"`
}

// Receipt is an XEP-0184 receipt or an XEP-0333 marker for message ID.
type Receipt struct {
	ID string `xml:"id,attr"`
}

// Replace marks an XEP-0308 correction of the message with ID.
type Replace struct {
	ID string `xml:"id,attr"`
}

// OriginID is an XEP-0359 origin id: the stable id of a message, the same
// on every copy, so that a client can recognise one written twice.
type OriginID struct {
	ID string `xml:"id,attr"`
}

// OOB is an XEP-0066 out-of-band URL.
type OOB struct {
	URL string `xml:"url"`
}

// Presence is an outgoing <presence/>.
type Presence struct {
	XMLName xml.Name     `xml:"presence"`
	Type    string       `xml:"type,attr,omitempty"`
	ID      string       `xml:"id,attr,omitempty"`
	From    string       `xml:"from,attr"`
	To      string       `xml:"to,attr"`
	Show    string       `xml:"show,omitempty"` // away, chat, dnd, xa; "" available
	Status  string       `xml:"status,omitempty"`
	Nick    string       `xml:"http://jabber.org/protocol/nick nick,omitempty"`
	MUCUser *MUCUser     `xml:"http://jabber.org/protocol/muc#user x,omitempty"`
	Avatar  *VCardUpdate `xml:"vcard-temp:x:update x,omitempty"`
	Error   *Error       `xml:"error,omitempty"`
}

// IQ is an outgoing <iq/>; Payload is already-encoded inner XML.
type IQ struct {
	XMLName xml.Name `xml:"iq"`
	Type    string   `xml:"type,attr"`
	ID      string   `xml:"id,attr"`
	From    string   `xml:"from,attr"`
	To      string   `xml:"to,attr"`
	Payload any      `xml:",omitempty"`
	Error   *Error   `xml:"error,omitempty"`
}

// Error is an RFC 6120 stanza error.
type Error struct {
	XMLName   xml.Name  `xml:"error"`
	Type      string    `xml:"type,attr"`
	By        string    `xml:"by,attr,omitempty"`
	Condition Condition `xml:""`
	Text      string    `xml:"urn:ietf:params:xml:ns:xmpp-stanzas text,omitempty"`
}

// Condition is a defined stanza error condition element.
type Condition struct{ XMLName xml.Name }

// RawReader reads serialised XML as raw tokens, so namespaces are written
// back exactly as they were rendered.
type RawReader struct{ d *xml.Decoder }

// Reactions is an XEP-0444 reaction set: the sender's whole set of
// reactions to message ID.
type Reactions struct {
	ID        string   `xml:"id,attr"`
	Reactions []string `xml:"reaction"`
}

// ApplyTo is an XEP-0422 fastening, which XEP-0424 before version 1.0 used
// for retractions: <apply-to id=...><retract xmlns=message-retract:0/>.
type ApplyTo struct {
	ID      string    `xml:"id,attr"`
	Retract *struct{} `xml:"urn:xmpp:message-retract:0 retract"`
}

// ReplyRef is an XEP-0461 reply: the id of the message replied to.
type ReplyRef struct {
	ID string `xml:"id,attr"`
	To string `xml:"to,attr,omitempty"`
}

// Fallback is an XEP-0428 fallback indication: the ranges of the body that
// only exist for clients without the feature named by For.
type Fallback struct {
	For    string          `xml:"for,attr"`
	Bodies []FallbackRange `xml:"body"`
}

// FallbackRange is one range of a fallback, in code points.
type FallbackRange struct {
	Start *int `xml:"start,attr"`
	End   *int `xml:"end,attr"`
}

// MUCJoin is the <x xmlns="http://jabber.org/protocol/muc"/> of a join.
type MUCJoin struct {
	History *struct {
		MaxStanzas *int `xml:"maxstanzas,attr"`
	} `xml:"history"`
}

// MUCUser is the <x xmlns="http://jabber.org/protocol/muc#user"/> of an
// occupant's presence.
type MUCUser struct {
	Item   MUCItem     `xml:"item"`
	Status []MUCStatus `xml:"status"`
}

// MUCItem is an occupant's affiliation and role.
type MUCItem struct {
	Affiliation string `xml:"affiliation,attr"`
	Role        string `xml:"role,attr"`
	JID         string `xml:"jid,attr,omitempty"`
}

// MUCStatus is an XEP-0045 status code.
type MUCStatus struct {
	Code int `xml:"code,attr"`
}

// StanzaID is an XEP-0359 stanza id assigned by the room: what MUC clients
// refer to in replies (XEP-0461) and reactions.
type StanzaID struct {
	ID string `xml:"id,attr"`
	By string `xml:"by,attr"`
}

// Delay is an XEP-0203 delay: when a history message was first sent.
type Delay struct {
	Stamp string `xml:"stamp,attr"`
	From  string `xml:"from,attr,omitempty"`
}

// VCardUpdate is XEP-0153's <x xmlns="vcard-temp:x:update"/>: Photo is the
// lower-case hex SHA-1 of the picture, or "" (an empty <photo/>) if the
// contact has none.
type VCardUpdate struct {
	XMLName xml.Name `xml:"vcard-temp:x:update x"`
	Photo   string   `xml:"photo"`
}

// Addresses is an XEP-0033 extended addressing header.
type Addresses struct {
	Address []Address `xml:"address"`
}

// Address is one XEP-0033 address.
type Address struct {
	Type      string `xml:"type,attr"`
	JID       string `xml:"jid,attr"`
	Delivered string `xml:"delivered,attr"`
}

// Form is an XEP-0004 data form, sent and received.
type Form struct {
	XMLName      xml.Name    `xml:"jabber:x:data x"`
	Type         string      `xml:"type,attr"`
	Title        string      `xml:"title,omitempty"`
	Instructions string      `xml:"instructions,omitempty"`
	Fields       []FormField `xml:"field"`
}

// FormField is a field of a data form.
type FormField struct {
	Var      string       `xml:"var,attr,omitempty"`
	Type     string       `xml:"type,attr,omitempty"`
	Label    string       `xml:"label,attr,omitempty"`
	Required *struct{}    `xml:"required,omitempty"`
	Values   []string     `xml:"value"`
	Options  []FormOption `xml:"option"`
}

// FormOption is an option of a list field.
type FormOption struct {
	Label string `xml:"label,attr,omitempty"`
	Value string `xml:"value"`
}

// NewError returns a stanza error of type typ (cancel, modify, wait, auth)
// with the defined condition cond and a human-readable text.
func NewError(typ, cond, text string) *Error {
	return &Error{Type: typ, Condition: Condition{xml.Name{Space: NSStanzas, Local: cond}}, Text: text}
}

// Raw is a stanza serialised already (by Render): Render returns it as
// it is.
type Raw []byte

// Render serialises a stanza for the store or the wire.
func Render(v any) []byte {
	if r, ok := v.(Raw); ok {
		return r
	}
	b, err := xml.Marshal(v)
	if err != nil {
		// Only a programming error (an unmarshalable type) gets here.
		panic("component: Render: " + err.Error())
	}
	return b
}

// NewRawReader reads b as raw tokens.
func NewRawReader(b []byte) RawReader { return RawReader{xml.NewDecoder(bytes.NewReader(b))} }

// Token implements xml.TokenReader.
func (r RawReader) Token() (xml.Token, error) {
	tok, err := r.d.RawToken()
	if err == io.EOF && tok != nil {
		err = nil
	}
	return tok, err
}

// Values returns the submitted values of field name, trimmed, without
// empty ones; nil if the form or the field is missing.
func (f *Form) Values(name string) []string {
	if f == nil {
		return nil
	}
	var vs []string
	for _, fl := range f.Fields {
		if fl.Var != name {
			continue
		}
		for _, v := range fl.Values {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// Value returns the first submitted value of field name, or "".
func (f *Form) Value(name string) string {
	if vs := f.Values(name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Error implements error, so that handlers can return a stanza error.
func (e *Error) Error() string {
	if e.Text != "" {
		return e.Condition.XMLName.Local + ": " + e.Text
	}
	return e.Condition.XMLName.Local
}
