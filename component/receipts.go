package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0184 message delivery receipts: a message may ask for one (sent when
// the provider reports delivery, or accepts it where it reports nothing).

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsReceipts, Local: "request"}, router.Feature{Var: nsReceipts, Targets: router.Gateway | router.Contact | router.Room},
			func(in *inStanza, v *struct{}) { in.Request = v }),
	)
}
