package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0359 unique and stable stanza ids: a message's origin-id, by which
// later corrections, retractions, reactions and replies may name it.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: "urn:xmpp:sid:0", Local: "origin-id"}, router.Feature{},
			func(in *inStanza, v *originID) { in.OriginID = v }),
	)
}
