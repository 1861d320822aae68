package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0308 last message correction: the message corrects an earlier one
// (by its stanza id or origin-id).

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsCorrect, Local: "replace"}, router.Feature{},
			func(in *inStanza, v *replace) { in.Replace = v }),
	)
}
