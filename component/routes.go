package component

import (
	"context"
	"encoding/xml"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
)

// coreRoutes are the core's own route constructors; each file that handles
// an XEP adds its own in init. Modules of concern packages (package core)
// add theirs the same way.
var coreRoutes []func(g *Gateway) []router.Route

// newRouter builds g's router from the core's routes and the registered
// modules', and notes the modules that list disco#items nodes
// (core.NodeItems).
func (g *Gateway) newRouter() *router.Router {
	r := router.New(g.log)
	r.Refused = g.countRefusal
	for _, f := range coreRoutes {
		r.Add(f(g)...)
	}
	g.nodeItems = map[string]core.NodeItems{}
	for _, m := range core.Modules() {
		if inst := m.New(g); inst != nil {
			g.mods = append(g.mods, inst)
			if rs, ok := inst.(core.RoomSink); ok && g.rooms == nil {
				g.rooms = rs
			}
			if is, ok := inst.(core.InboxSink); ok && g.inboxSink == nil {
				g.inboxSink = is
			}
			if a, ok := inst.(core.Avatars); ok && g.avatars == nil {
				g.avatars = a
			}
			r.Add(inst.Routes()...)
			if n, ok := inst.(core.NodeItems); ok && g.nodeItems[n.Node()] == nil {
				g.nodeItems[n.Node()] = n
			}
		}
	}
	return r
}

// withInStanza adapts a handler that works on an inStanza, read by the
// registered parts (stanza_parts.go): a bad value answers bad-request.
func (g *Gateway) withInStanza(f func(router.Writer, inStanza, jid.JID, jid.JID)) router.Handler {
	return router.HandlerFunc(func(_ context.Context, w router.Writer, s *router.Stanza) error {
		in, err := g.readInStanza(s)
		if err != nil {
			return err
		}
		f(w, in, s.From, s.To)
		return nil
	})
}

func init() {
	coreRoutes = append(coreRoutes, func(g *Gateway) []router.Route {
		routes := []router.Route{
			// Messages to contacts and rooms become jobs; to the gateway,
			// commands and XEP-0033 group texts (message.go).
			{Kind: router.Message, Handler: g.withInStanza(g.handleMessage), Features: partFeatures(router.Message)},
			// Subscriptions and probes (presence.go); rooms' are package muc's.
			{Kind: router.Presence, Handler: g.withInStanza(g.handlePresence)},
			// XEP-0077 (register.go).
			{Kind: router.IQ, Types: []string{"get", "set"}, Payload: xml.Name{Space: nsRegister, Local: "query"},
				Targets: router.Gateway, Features: []router.Feature{{Var: nsRegister, Targets: router.Gateway}},
				Handler: g.withInStanza(g.register)},
		}
		return routes
	})
}
