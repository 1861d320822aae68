package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0333 chat markers: a markable message gets a "received" marker with
// its receipt; a user's "displayed" marks the chat read where the network
// can (transports.Reader).

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsMarkers, Local: "markable"}, router.Feature{Var: nsMarkers, Targets: router.Contact | router.Room},
			func(in *inStanza, v *struct{}) { in.Markable = v }),
		one(router.Message, xml.Name{Space: nsMarkers, Local: "displayed"}, router.Feature{},
			func(in *inStanza, v *replace) { in.Displayed = v }),
	)
}
