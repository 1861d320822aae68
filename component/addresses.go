package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0033 extended stanza addressing: a message to the gateway JID with
// addresses is a group text (multicast.go).

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsAddress, Local: "addresses"}, router.Feature{Var: nsAddress, Targets: router.Gateway},
			func(in *inStanza, v *addresses) { in.Addresses = v }),
	)
}
