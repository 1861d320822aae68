package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// A stanzaPart reads one XEP's element of a received stanza into the
// inStanza the core's handlers work on. Each XEP registers its part in its
// own file (receipts.go, replies.go...), and decodes only its element: a
// bad value in it refuses the stanza with bad-request, and an element no
// part reads is ignored.
type stanzaPart struct {
	kind    router.Kind
	name    xml.Name
	feature router.Feature // what the part adds to disco#info; zero for none
	read    func(s *router.Stanza, in *inStanza) error
}

var stanzaParts []stanzaPart

// one is a part for an element that appears once: set stores it.
func one[T any](kind router.Kind, name xml.Name, feature router.Feature, set func(in *inStanza, v *T)) stanzaPart {
	return stanzaPart{kind: kind, name: name, feature: feature, read: func(s *router.Stanza, in *inStanza) error {
		if !s.HasChild(name) {
			return nil // most parts are absent from most stanzas: no allocation
		}
		v := new(T)
		ok, err := s.DecodeChild(name, v)
		if ok && err == nil {
			set(in, v)
		}
		return err
	}}
}

// each is a part for an element that may repeat: add stores each.
func each[T any](kind router.Kind, name xml.Name, feature router.Feature, add func(in *inStanza, v T)) stanzaPart {
	return stanzaPart{kind: kind, name: name, feature: feature, read: func(s *router.Stanza, in *inStanza) error {
		return s.EachChild(name, func(decode func(any) error) error {
			var v T
			if err := decode(&v); err != nil {
				return err
			}
			add(in, v)
			return nil
		})
	}}
}

// readInStanza reads s into an inStanza: its addressing, the element of
// every registered part, and an IQ's payload.
func (g *Gateway) readInStanza(s *router.Stanza) (inStanza, error) {
	in := headerOf(s.Start())
	in.read = s.Read
	if in.From == "" {
		in.From = g.domain.String()
	}
	for _, p := range stanzaParts {
		if p.kind != s.Kind {
			continue
		}
		if err := p.read(s, &in); err != nil {
			return in, err
		}
	}
	if s.Kind == router.IQ && s.Payload != (xml.Name{}) {
		if _, err := s.DecodeChild(s.Payload, &in.Payload); err != nil {
			return in, err
		}
	}
	return in, nil
}

// partFeatures are the disco features the parts of kind declare.
func partFeatures(kind router.Kind) []router.Feature {
	var fs []router.Feature
	for _, p := range stanzaParts {
		if p.kind == kind && p.feature.Var != "" {
			fs = append(fs, p.feature)
		}
	}
	return fs
}

func init() {
	// The body: no XEP of its own to advertise. (XEP-0045's join element
	// is package muc's.)
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Local: "body"}, router.Feature{}, func(in *inStanza, v *string) { in.Body = v }),
	)
}
