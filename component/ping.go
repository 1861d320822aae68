package component

import (
	"context"
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0199 ping: the gateway and its contacts answer.

func init() {
	coreRoutes = append(coreRoutes, func(g *Gateway) []router.Route {
		return []router.Route{{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: nsPing, Local: "ping"},
			Features: []router.Feature{{Var: nsPing, Targets: router.Gateway}},
			Handler: router.HandlerFunc(func(_ context.Context, w router.Writer, s *router.Stanza) error {
				router.Result(w, s, nil)
				return nil
			})}}
	})
}
