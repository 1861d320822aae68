package component

import (
	"encoding/xml"
	"errors"
	"io"
)

// DefaultMaxStanza is the largest stanza the gateway accepts, in bytes of
// names, attributes and text.
const DefaultMaxStanza = 64 << 10

var errTooBig = errors.New("stanza too big")

// limitReader passes on the tokens of one stanza until more than left bytes
// were read; then it returns errTooBig. It tracks the depth so that the rest
// of the stanza can be skipped.
type limitReader struct {
	r     xml.TokenReader
	left  int
	depth int
	err   error // the first error of r other than io.EOF: the stream is broken
}

func (l *limitReader) Token() (xml.Token, error) {
	tok, err := l.r.Token()
	if err != nil {
		if err != io.EOF && l.err == nil {
			l.err = err
		}
		return tok, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		l.depth++
		l.left -= len(t.Name.Space) + len(t.Name.Local)
		for _, a := range t.Attr {
			l.left -= len(a.Name.Space) + len(a.Name.Local) + len(a.Value)
		}
	case xml.EndElement:
		l.depth--
	case xml.CharData:
		l.left -= len(t)
	case xml.Comment:
		l.left -= len(t)
	}
	if l.left < 0 {
		return nil, errTooBig
	}
	return tok, nil
}

// skipRest reads and drops the rest of the stanza.
func (l *limitReader) skipRest() error {
	for l.depth > 0 {
		tok, err := l.r.Token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			l.depth++
		case xml.EndElement:
			l.depth--
		}
	}
	return nil
}

// headerOf reads a stanza's addressing from its start element alone.
func headerOf(start xml.StartElement) inStanza {
	in := inStanza{XMLName: start.Name}
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "from":
			in.From = a.Value
		case "to":
			in.To = a.Value
		case "id":
			in.ID = a.Value
		case "type":
			in.Type = a.Value
		}
	}
	return in
}
