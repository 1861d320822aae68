package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0066 out-of-band data: attachments' URLs.

func init() {
	stanzaParts = append(stanzaParts,
		each(router.Message, xml.Name{Space: nsOOB, Local: "x"}, router.Feature{},
			func(in *inStanza, v oob) { in.OOB = append(in.OOB, v) }),
	)
}
