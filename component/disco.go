package component

import (
	"context"
	"encoding/xml"
	"slices"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// XEP-0030 service discovery. disco#info is built from the features the
// routes declare (see routes.go), so it lists what is handled.

func init() {
	coreRoutes = append(coreRoutes, func(g *Gateway) []router.Route {
		return []router.Route{
			{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: nsDiscoInfo, Local: "query"},
				Features: []router.Feature{{Var: nsDiscoInfo, Targets: router.AnyTarget}},
				Handler:  router.HandlerFunc(g.discoInfoHandler)},
			{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: nsDiscoItem, Local: "query"},
				Features: []router.Feature{{Var: nsDiscoItem, Targets: router.Gateway}},
				Handler:  router.HandlerFunc(g.discoItemsHandler)},
		}
	})
}

// discoQuery is what a disco request carries.
type discoQuery struct {
	Node string `xml:"node,attr"`
}

func (g *Gateway) discoInfoHandler(_ context.Context, w router.Writer, s *router.Stanza) error {
	var q discoQuery
	if _, err := s.DecodeChild(s.Payload, &q); err != nil {
		return err
	}
	if s.Target == router.Room && q.Node == "" {
		if title, ok := g.roomTitle(s.From, s.To); ok {
			router.Result(w, s, g.roomInfo(title))
			return nil
		}
	}
	router.Result(w, s, g.discoInfo(q.Node, s.Target == router.Gateway))
	return nil
}

func (g *Gateway) discoItemsHandler(_ context.Context, w router.Writer, s *router.Stanza) error {
	var q discoQuery
	if _, err := s.DecodeChild(s.Payload, &q); err != nil {
		return err
	}
	items := discoItems{Node: q.Node}
	if n := g.nodeItems[q.Node]; s.Target == router.Gateway && n != nil {
		for _, it := range n.Items(s.From) {
			items.Items = append(items.Items, discoItem{JID: it.JID, Node: it.Node, Name: it.Name})
		}
	}
	router.Result(w, s, items)
	return nil
}

type discoInfo struct {
	XMLName    xml.Name        `xml:"http://jabber.org/protocol/disco#info query"`
	Node       string          `xml:"node,attr,omitempty"`
	Identities []discoIdentity `xml:"identity"`
	Features   []discoFeature  `xml:"feature"`
}

type discoIdentity struct {
	Category string `xml:"category,attr"`
	Type     string `xml:"type,attr"`
	Name     string `xml:"name,attr,omitempty"`
}

type discoFeature struct {
	Var string `xml:"var,attr"`
}

type discoItems struct {
	XMLName xml.Name    `xml:"http://jabber.org/protocol/disco#items query"`
	Node    string      `xml:"node,attr,omitempty"`
	Items   []discoItem `xml:"item"`
}

type discoItem struct {
	JID  string `xml:"jid,attr"`
	Node string `xml:"node,attr,omitempty"`
	Name string `xml:"name,attr,omitempty"`
}

// discoInfo is the disco#info of the gateway JID or of a contact: the
// features the routes declare for it.
func (g *Gateway) discoInfo(node string, gatewayJID bool) discoInfo {
	q := discoInfo{Node: node}
	target := router.Contact
	if gatewayJID {
		q.Identities = []discoIdentity{{Category: "gateway", Type: g.o.Identity.Gateway, Name: g.o.Identity.Name + " gateway"}}
		target = router.Gateway
	} else {
		q.Identities = []discoIdentity{{Category: "client", Type: "phone"}}
	}
	for _, f := range g.router.Features(target) {
		q.Features = append(q.Features, discoFeature{Var: f})
	}
	return q
}

// roomTitle returns the title of the room at to, if to is one and from
// may see it: an allowed user who may join it. That is a member of a team
// inbox; the user a group is linked to; for a group of the user's own
// account (transports.MemberRooms), a user with a resource in the room
// (whether the account is in the group is the network's to say, which
// the read loop never asks). Anyone else is answered as for a JID that is
// no room (a contact's bare features), so that disco tells nobody else
// which rooms there are, nor their titles.
func (g *Gateway) roomTitle(from, to jid.JID) (string, bool) {
	if to.Localpart() == "" || to.Resourcepart() != "" {
		return "", false
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		return "", false
	}
	if box, ok := g.inboxes[to.Localpart()]; ok {
		if !slices.Contains(box.Members, bare) {
			return "", false
		}
		return "Team inbox " + string(box.Account), true
	}
	if g.roomer == nil {
		return "", false
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil || !g.isRoom(remote) {
		return "", false
	}
	if _, ok := g.o.Transport.(transports.MemberRooms); ok {
		room, err := g.contactJID(remote)
		if err != nil || g.rooms == nil {
			return "", false
		}
		return g.rooms.Occupied(room, bare)
	}
	ctx, cancel := context.WithTimeout(g.readCtx(), storeTimeout)
	defer cancel()
	l, ok, err := g.o.Store.Links().LinkOf(ctx, g.name, string(remote))
	if err != nil || !ok || l.User != bare {
		return "", false
	}
	if l.Name == "" {
		return string(remote), true
	}
	return l.Name, true
}

// roomInfo is a room's disco#info (XEP-0045 6.4): the features the
// routes declare for rooms.
func (g *Gateway) roomInfo(title string) discoInfo {
	q := discoInfo{Identities: []discoIdentity{{Category: "conference", Type: "text", Name: title}}}
	for _, f := range g.router.Features(router.Room) {
		q.Features = append(q.Features, discoFeature{Var: f})
	}
	return q
}
