package component

import (
	"context"
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0100 gateway interaction (jabber:iq:gateway): the gateway JID tells
// how to address a contact, and turns what the user typed (a number in any
// common form, a chat id) into the contact's JID.

func init() {
	coreRoutes = append(coreRoutes, func(g *Gateway) []router.Route {
		return []router.Route{{Kind: router.IQ, Types: []string{"get", "set"}, Payload: xml.Name{Space: nsGateway, Local: "query"},
			Targets:  router.Gateway,
			Features: []router.Feature{{Var: nsGateway, Targets: router.Gateway}},
			Handler:  router.HandlerFunc(g.prompt)}}
	})
}

func (g *Gateway) prompt(_ context.Context, w router.Writer, s *router.Stanza) error {
	if s.Type == "get" {
		router.Result(w, s, gatewayQuery{Desc: g.o.Identity.Desc, Prompt: g.o.Identity.Prompt})
		return nil
	}
	var q gatewayQuery
	if _, err := s.DecodeChild(s.Payload, &q); err != nil {
		return err
	}
	addr, err := g.o.Transport.ParseAddr(q.Prompt)
	if err != nil {
		return newError("modify", "not-acceptable", err.Error())
	}
	c, err := g.contactJID(addr)
	if err != nil {
		return newError("modify", "not-acceptable", err.Error())
	}
	router.Result(w, s, gatewayQuery{JID: c.String()})
	return nil
}

type gatewayQuery struct {
	XMLName xml.Name `xml:"jabber:iq:gateway query"`
	Desc    string   `xml:"desc,omitempty"`
	Prompt  string   `xml:"prompt,omitempty"`
	JID     string   `xml:"jid,omitempty"`
}
