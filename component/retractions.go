package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0424 message retraction, and the fastening form (XEP-0422) it had
// before version 1.0, which slixmpp 1.8 sends.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsRetract, Local: "retract"}, router.Feature{},
			func(in *inStanza, v *replace) { in.Retract = v }),
		one(router.Message, xml.Name{Space: "urn:xmpp:fasten:0", Local: "apply-to"}, router.Feature{},
			func(in *inStanza, v *applyTo) { in.ApplyTo = v }),
	)
}
