package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0085 chat state notifications: "composing" is shown as typing where
// the network can.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsChatState, Local: "composing"}, router.Feature{},
			func(in *inStanza, v *struct{}) { in.Composing = v }),
	)
}
