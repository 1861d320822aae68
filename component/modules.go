package component

// The concern packages, one import per concern package, like Caddy's
// imports.go: each registers its module (package core) in init, and every
// gateway is built with it.
import (
	_ "xmppgw/component/adhoc"  // XEP-0050 ad-hoc commands on the gateway JID
	_ "xmppgw/component/muc"    // XEP-0045 rooms: a transport's groups as rooms
	_ "xmppgw/component/roster" // XEP-0356 roster privileges: contacts pushed into users' rosters
	_ "xmppgw/component/vcard"  // XEP-0054 vCards and XEP-0153 picture hashes of contacts
)
