package component

import (
	"context"
	"encoding/xml"
	"slices"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
)

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

type gatewayQuery struct {
	XMLName xml.Name `xml:"jabber:iq:gateway query"`
	Desc    string   `xml:"desc,omitempty"`
	Prompt  string   `xml:"prompt,omitempty"`
	JID     string   `xml:"jid,omitempty"`
}

// registerQuery is an XEP-0077 registration form: instructions only, since
// linking needs nothing but the code they contain.
type registerQuery struct {
	XMLName      xml.Name  `xml:"jabber:iq:register query"`
	Instructions string    `xml:"instructions,omitempty"`
	Registered   *struct{} `xml:"registered,omitempty"`
	Phone        string    `xml:"phone,omitempty"` // the user's number, for account transports
}

type versionQuery struct {
	XMLName xml.Name `xml:"jabber:iq:version query"`
	Name    string   `xml:"name"`
	Version string   `xml:"version"`
}

// Features of the gateway JID and of each contact JID.
var (
	gatewayFeatures = []string{nsCommands, nsAddress, nsDiscoInfo, nsDiscoItem, nsGateway, nsPing, nsVersion, nsReceipts, nsRegister}
	contactFeatures = []string{nsDiscoInfo, nsReceipts, nsMarkers, nsReacts, nsVCard}
)

// handleIQ answers XEP-0030 disco, XEP-0100 jabber:iq:gateway, XEP-0199 ping,
// XEP-0092 version and, for Linker transports, XEP-0077 registration;
// anything else gets service-unavailable.
func (g *Gateway) handleIQ(t xmlstream.TokenReadEncoder, in inStanza, from, to jid.JID) {
	if in.Type != "get" && in.Type != "set" {
		return // results and errors to our own requests: we send none yet
	}
	result := func(p any) {
		g.encode(t, iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: p})
	}
	gatewayJID := to.Localpart() == ""
	ns, typ := in.Payload.XMLName.Space, in.Type
	switch {
	case ns == nsDiscoInfo && typ == "get":
		if title, ok := g.roomTitle(from, to); ok && in.Payload.Node == "" {
			result(roomInfo(title))
			return
		}
		result(g.discoInfo(in.Payload.Node, gatewayJID))
	case ns == nsDiscoItem && typ == "get" && gatewayJID && in.Payload.Node == nsCommands:
		result(g.commandItems(from.Bare().String()))
	case ns == nsDiscoItem && typ == "get":
		result(discoItems{Node: in.Payload.Node})
	case ns == nsVCard && typ == "get" && !gatewayJID:
		g.vcard(t, in, from, to)
	case ns == nsCommands && gatewayJID:
		g.handleCommand(t, in, from, to)
	case ns == nsPing && typ == "get":
		result(nil)
	case ns == nsVersion && typ == "get" && gatewayJID:
		result(versionQuery{Name: "xmppgw", Version: g.o.Version})
	case ns == nsRegister && gatewayJID:
		g.register(t, in, from, to)
	case ns == nsGateway && typ == "get" && gatewayJID:
		result(gatewayQuery{Desc: g.o.Identity.Desc, Prompt: g.o.Identity.Prompt})
	case ns == nsGateway && typ == "set" && gatewayJID:
		addr, err := g.o.Transport.ParseAddr(in.Payload.Prompt)
		if err != nil {
			g.reply(t, in, from, to, newError("modify", "not-acceptable", err.Error()))
			return
		}
		c, err := mapping.ContactJID(addr, g.domain.Domainpart())
		if err != nil {
			g.reply(t, in, from, to, newError("modify", "not-acceptable", err.Error()))
			return
		}
		result(gatewayQuery{JID: c.String()})
	default:
		g.reply(t, in, from, to, newError("cancel", "service-unavailable", ""))
	}
}

func (g *Gateway) discoInfo(node string, gatewayJID bool) discoInfo {
	q := discoInfo{Node: node}
	features := contactFeatures
	if gatewayJID {
		q.Identities = []discoIdentity{{Category: "gateway", Type: g.o.Identity.Gateway, Name: g.o.Identity.Name + " gateway"}}
		features = gatewayFeatures
	} else {
		q.Identities = []discoIdentity{{Category: "client", Type: "phone"}}
	}
	for _, f := range features {
		q.Features = append(q.Features, discoFeature{Var: f})
	}
	return q
}

// roomTitle returns the title of the linked group at to, if to is one and
// from may see it: an allowed user the group is linked to. Anyone else is
// answered as for a JID that is no room (a contact's bare features), so
// that disco tells nobody else which groups are linked, nor their titles.
func (g *Gateway) roomTitle(from, to jid.JID) (string, bool) {
	if g.roomer == nil || to.Localpart() == "" || to.Resourcepart() != "" {
		return "", false
	}
	bare := from.Bare().String()
	if !g.allowed(bare) {
		return "", false
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil || !g.isRoom(remote) {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	l, ok, err := g.o.Store.LinkOf(ctx, g.name, string(remote))
	if err != nil || !ok || l.User != bare {
		return "", false
	}
	if l.Name == "" {
		return string(remote), true
	}
	return l.Name, true
}

// roomInfo is a room's disco#info (XEP-0045 6.4), with the contact's
// features.
func roomInfo(title string) discoInfo {
	q := discoInfo{Identities: []discoIdentity{{Category: "conference", Type: "text", Name: title}}}
	for _, f := range append(slices.Clone(roomFeatures), contactFeatures...) {
		q.Features = append(q.Features, discoFeature{Var: f})
	}
	return q
}
