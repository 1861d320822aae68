package router

import (
	"context"
	"encoding/xml"
	"slices"
)

// Kind is a stanza's element: message, presence or iq.
type Kind uint8

// The stanza kinds.
const (
	Message Kind = 1 + iota
	Presence
	IQ
)

func (k Kind) String() string {
	switch k {
	case Message:
		return "message"
	case Presence:
		return "presence"
	case IQ:
		return "iq"
	}
	return "unknown"
}

// KindOf returns the kind of a stanza element named local, or 0.
func KindOf(local string) Kind {
	switch local {
	case "message":
		return Message
	case "presence":
		return Presence
	case "iq":
		return IQ
	}
	return 0
}

// Target is the kind of address a stanza is sent to. Targets combine as a
// set in Route.Targets.
type Target uint8

// The targets. A room is a contact that is also an XEP-0045 room (a linked
// group); its occupants are room/nick.
const (
	Gateway   Target = 1 << iota // the component's own domain
	Contact                      // a contact's bare or full JID that is no room
	Room                         // a room's bare JID
	Occupant                     // room/nick
	AnyTarget = Gateway | Contact | Room | Occupant
)

// Handler handles the stanzas of its routes. It is called on the read loop:
// it must not block on the network, and it writes its answers to w. An
// error it returns answers the stanza (see package doc) and never ends the
// stream.
type Handler interface {
	HandleStanza(ctx context.Context, w Writer, s *Stanza) error
}

// HandlerFunc is a function as a Handler.
type HandlerFunc func(ctx context.Context, w Writer, s *Stanza) error

// HandleStanza calls f.
func (f HandlerFunc) HandleStanza(ctx context.Context, w Writer, s *Stanza) error {
	return f(ctx, w, s)
}

// Writer writes stanzas to the session the stanza came from.
type Writer interface {
	// Encode writes v, a value of the stanza package (stanza.Message...).
	Encode(v any)
}

// Feature is a disco feature a route provides, on the targets it names.
type Feature struct {
	Var     string
	Targets Target
}

// Route is what a handler handles. The most specific route that matches a
// stanza handles it: Priority first, then a Payload over none, Types over
// none, Targets over any.
type Route struct {
	Kind Kind
	// Types are the stanza types handled; none means every type. A
	// message without a type is "normal", a presence without one "".
	Types []string
	// Payload, if set, is a child element the stanza must have: an IQ's
	// payload, or an element of a message or presence (XEP-0424's
	// <retract/>, XEP-0045's <x/>). Its Local may be "" for any element of
	// the namespace.
	Payload xml.Name
	// Targets are the addresses handled; 0 means any.
	Targets Target
	// Priority orders routes that match the same stanza (default 0).
	Priority int
	// Features are what the route adds to disco#info.
	Features []Feature
	Handler  Handler
}

func (r *Route) matches(s *Stanza) bool {
	if r.Kind != s.Kind {
		return false
	}
	if r.Types != nil && !slices.Contains(r.Types, s.Type) {
		return false
	}
	if r.Targets != 0 && r.Targets&s.Target == 0 {
		return false
	}
	if r.Payload != (xml.Name{}) {
		if s.Kind == IQ {
			return nameMatches(r.Payload, s.Payload)
		}
		return s.Child(r.Payload) != nil
	}
	return true
}

// nameMatches reports whether got is want. A want without a namespace is
// an element of the stanza's own namespace (body, subject, thread): in a
// stream it has the stream's default namespace (jabber:component:accept),
// so, as with encoding/xml's tags, any namespace matches it.
func nameMatches(want, got xml.Name) bool {
	return (want.Space == "" || want.Space == got.Space) && (want.Local == "" || want.Local == got.Local)
}

// specificity ranks routes matching the same stanza.
func (r *Route) specificity() int {
	n := r.Priority * 8
	if r.Payload != (xml.Name{}) {
		n += 4
	}
	if r.Types != nil {
		n += 2
	}
	if r.Targets != 0 && r.Targets != AnyTarget {
		n++
	}
	return n
}
