package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0333 chat markers: a markable message gets a "received" marker with
// its receipt.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsMarkers, Local: "markable"}, router.Feature{Var: nsMarkers, Targets: router.Contact | router.Room},
			func(in *inStanza, v *struct{}) { in.Markable = v }),
	)
}
