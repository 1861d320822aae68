package component

import "xmppgw/transports"

// XEP-0153 picture hashes are the vcard module's (package component/vcard,
// through core.Avatars); the core asks it for a contact's hash when it
// writes the contact's presence, and tells it when a hash is worth
// learning. Without the module, presences carry no hash.

// avatarUpdate is the XEP-0153 element for remote's presence to user (a
// bare JID), or nil if its hash is not known.
func (g *Gateway) avatarUpdate(user string, remote transports.Addr) *vcardUpdate {
	if g.avatars == nil {
		return nil
	}
	return g.avatars.AvatarUpdate(user, remote)
}

// refreshAvatar has remote's picture hash learned in the background, if it
// is not known, and then its presence with the hash sent to users (bare
// JIDs). It never blocks.
func (g *Gateway) refreshAvatar(remote transports.Addr, users ...string) {
	if g.avatars != nil {
		g.avatars.RefreshAvatar(remote, users...)
	}
}
