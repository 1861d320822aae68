package component

import (
	"context"
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0092 software version, of the gateway JID.

func init() {
	coreRoutes = append(coreRoutes, func(g *Gateway) []router.Route {
		return []router.Route{{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: nsVersion, Local: "query"},
			Targets:  router.Gateway,
			Features: []router.Feature{{Var: nsVersion, Targets: router.Gateway}},
			Handler: router.HandlerFunc(func(_ context.Context, w router.Writer, s *router.Stanza) error {
				router.Result(w, s, versionQuery{Name: "xmppgw", Version: g.o.Version})
				return nil
			})}}
	})
}

type versionQuery struct {
	XMLName xml.Name `xml:"jabber:iq:version query"`
	Name    string   `xml:"name"`
	Version string   `xml:"version"`
}
