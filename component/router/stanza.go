package router

import (
	"encoding/xml"
	"errors"
	"io"
	"time"

	"mellium.im/xmpp/jid"
)

// Stanza is a received stanza, read whole: its addressing, what it is
// addressed to, and its tokens for the handler to decode what it needs.
type Stanza struct {
	Kind     Kind
	From, To jid.JID
	ID, Type string // Type is "normal" for a message without one
	Target   Target
	// Payload is the name of an IQ's first child element.
	Payload xml.Name
	Read    time.Time // when reading it began

	tokens []xml.Token // the stanza, start and end element included
}

// NewStanza returns the stanza of tokens (each a copy: xml.CopyToken),
// addressed to a target of kind target. from and to are already parsed.
func NewStanza(tokens []xml.Token, from, to jid.JID, target Target) *Stanza {
	start := tokens[0].(xml.StartElement)
	s := &Stanza{Kind: KindOf(start.Name.Local), From: from, To: to, Target: target, tokens: tokens}
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "id":
			s.ID = a.Value
		case "type":
			s.Type = a.Value
		}
	}
	if s.Kind == Message && s.Type == "" {
		s.Type = "normal"
	}
	if s.Kind == IQ {
		if i := s.child(func(xml.Name) bool { return true }); i > 0 {
			s.Payload = tokens[i].(xml.StartElement).Name
		}
	}
	return s
}

// Start is the stanza's start element.
func (s *Stanza) Start() xml.StartElement { return s.tokens[0].(xml.StartElement) }

// Child returns the first child element named name (any element of its
// namespace if name.Local is ""), or nil.
func (s *Stanza) Child(name xml.Name) *xml.StartElement {
	i := s.child(func(n xml.Name) bool { return nameMatches(name, n) })
	if i < 0 {
		return nil
	}
	start := s.tokens[i].(xml.StartElement)
	return &start
}

// HasChild reports whether the stanza has a child element named name (as
// Child matches it).
func (s *Stanza) HasChild(name xml.Name) bool {
	return s.child(func(n xml.Name) bool { return nameMatches(name, n) }) >= 0
}

// child returns the index of the first child start element whose name
// satisfies ok, or -1.
func (s *Stanza) child(ok func(xml.Name) bool) int {
	depth := 0
	for i, tok := range s.tokens {
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && ok(t.Name) {
				return i
			}
		case xml.EndElement:
			depth--
		}
	}
	return -1
}

// Decode decodes the whole stanza into v. An error is a bad value in a
// well-formed stanza: return it (wrapped in BadRequest) to refuse the
// stanza.
func (s *Stanza) Decode(v any) error {
	return decode(s.tokens, v)
}

// DecodeChild decodes the first child element named name into v; it
// reports false, with no error, if there is none.
func (s *Stanza) DecodeChild(name xml.Name, v any) (bool, error) {
	i := s.child(func(n xml.Name) bool { return nameMatches(name, n) })
	if i < 0 {
		return false, nil
	}
	depth, j := 0, i
	for ; j < len(s.tokens); j++ {
		switch s.tokens[j].(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		if depth == 0 {
			break
		}
	}
	return true, decode(s.tokens[i:j+1], v)
}

// EachChild calls f for every child element named name, in order, with a
// function that decodes that child into v. It stops at the first error.
func (s *Stanza) EachChild(name xml.Name, f func(decode func(v any) error) error) error {
	depth, from := 0, -1
	for i, tok := range s.tokens {
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && nameMatches(name, t.Name) {
				from = i
			}
		case xml.EndElement:
			depth--
			if depth == 1 && from >= 0 {
				child := s.tokens[from : i+1]
				from = -1
				if err := f(func(v any) error { return decode(child, v) }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func decode(tokens []xml.Token, v any) error {
	if err := xml.NewTokenDecoder(&sliceReader{tokens: tokens}).Decode(v); err != nil {
		return BadRequest(err)
	}
	return nil
}

// Tokens reads the stanza's tokens again, from its start element.
func (s *Stanza) Tokens() xml.TokenReader { return &sliceReader{tokens: s.tokens} }

type sliceReader struct {
	tokens []xml.Token
	i      int
}

func (r *sliceReader) Token() (xml.Token, error) {
	if r.i >= len(r.tokens) {
		return nil, io.EOF
	}
	t := r.tokens[r.i]
	r.i++
	return t, nil
}

// badRequest marks a value that did not decode.
type badRequest struct{ err error }

func (e badRequest) Error() string { return "bad value: " + e.err.Error() }
func (e badRequest) Unwrap() error { return e.err }

// BadRequest marks err as a bad value in the stanza: the router answers
// modify/bad-request.
func BadRequest(err error) error { return badRequest{err} }

// IsBadRequest reports whether err is a BadRequest.
func IsBadRequest(err error) bool { return errors.As(err, &badRequest{}) }
