package component

import (
	"encoding/xml"

	"xmppgw/component/router"
)

// XEP-0461 message replies, with XEP-0428 fallback ranges (also in the
// namespace XEP-0428 had before 0.2, which slixmpp 1.8 sends), so that
// the quoted fallback is cut from the body.

func init() {
	stanzaParts = append(stanzaParts,
		one(router.Message, xml.Name{Space: nsReply, Local: "reply"}, router.Feature{},
			func(in *inStanza, v *replyRef) { in.Reply = v }),
		each(router.Message, xml.Name{Space: nsFallback, Local: "fallback"}, router.Feature{},
			func(in *inStanza, v fallback) { in.Fallbacks = append(in.Fallbacks, v) }),
		each(router.Message, xml.Name{Space: "urn:xmpp:feature-fallback:0", Local: "fallback"}, router.Feature{},
			func(in *inStanza, v fallback) { in.OldFallbacks = append(in.OldFallbacks, v) }),
	)
}
