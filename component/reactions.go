package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0444 message reactions: the sender's whole set of reactions to a
// message.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsReacts, Local: "reactions"}, router.Feature{Var: nsReacts, Targets: router.Contact | router.Room},
			func(in *inStanza, v *reactions) { in.Reactions = v }),
	)
}
