package core

import (
	"xmppgw/component/stanza"
	"xmppgw/transports"
)

// Avatars is an optional interface of an Instance that knows contacts'
// pictures (XEP-0153): the core puts a contact's picture hash in the
// available presences it writes for it, and tells the Instance when a hash
// is worth learning. Package component/vcard implements it.
//
// The core looks for it once, when it builds the gateway; the first
// registered Instance that implements it is used, and without one the
// core's presences carry no hash.
type Avatars interface {
	// AvatarUpdate returns the <x xmlns="vcard-temp:x:update"/> element
	// for remote's available presence to user (a bare JID), or nil if its
	// picture's hash, as user sees it, is not known. The core calls it on the read loop, when it answers a
	// presence (subscribe, probe) to a linked contact. It must not block:
	// no network and no store, only what the Instance holds.
	AvatarUpdate(user string, remote transports.Addr) *stanza.VCardUpdate

	// RefreshAvatar asks for remote's picture hash to be learned, if it is
	// not known, and then for remote's available presence with the hash to
	// be sent to users (bare JIDs). The core calls it on the read loop (a
	// presence to a contact whose hash AvatarUpdate did not know), after a
	// provider's message is stored (the sink), and when a chat is linked.
	// It must return at once: a fetch runs in a goroutine started with
	// Core.Go, the fetches under way are bounded (a request over the bound
	// is dropped, the hash is learned another time), and the presences go
	// through Core.Queue, never to the caller's session.
	RefreshAvatar(remote transports.Addr, users ...string)
}
