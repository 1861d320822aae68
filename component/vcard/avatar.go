package vcard

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// XEP-0153: a contact's available presence carries the SHA-1 of its
// picture, so that clients know to fetch its vCard (and when to fetch it
// again). The module learns the hash when it fetches the picture for a
// vCard, and in the background when the core asks (RefreshAvatar: a chat
// linked, a message or a presence while its hash is unknown); it then
// sends the contact's presence again with it. Hashes are kept in memory,
// within bounds (hashes.go): after a restart, or once forgotten to make
// room, they are learned again.

// key is a contact as one user sees it. Where users sign in to accounts of
// their own (transports.Login), a contact's picture is the one that user's
// account sees, and is kept per user; elsewhere user is "" and a contact
// has one picture.
type key struct {
	user   string
	remote transports.Addr
}

// keyOf is remote's key for user (a bare JID).
func (v *Instance) keyOf(user string, remote transports.Addr) key {
	if !v.perUser {
		user = ""
	}
	return key{user, remote}
}

// Hash is the hex SHA-1 of a picture, "" for none.
func Hash(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// AvatarUpdate implements core.Avatars: the XEP-0153 element for remote's
// presence to user, or nil if its hash is not known (or the transport has
// no pictures).
func (v *Instance) AvatarUpdate(user string, remote transports.Addr) *stanza.VCardUpdate {
	if h, ok := v.hashes.get(v.keyOf(user, remote)); ok {
		return &stanza.VCardUpdate{Photo: h}
	}
	return nil
}

// RefreshAvatar implements core.Avatars: it learns remote's picture hash
// in a goroutine of the core's (Core.Go), if it is not known, and then
// queues remote's presence with the hash to users; where each user sees
// a picture of their own (transports.Login), for each user. It never
// blocks: if too many fetches are under way it does nothing, and the hash
// is learned another time.
func (v *Instance) RefreshAvatar(remote transports.Addr, users ...string) {
	if v.av == nil || len(users) == 0 {
		return
	}
	if !v.perUser {
		v.refresh(users[0], remote, users...)
		return
	}
	for _, u := range users {
		v.refresh(u, remote, u)
	}
}

// refresh is RefreshAvatar with remote's picture as as (a bare JID) sees it.
func (v *Instance) refresh(as string, remote transports.Addr, users ...string) {
	k := v.keyOf(as, remote)
	if !v.hashes.start(k, v.now()) {
		return
	}
	if !v.acquire() {
		v.hashes.done(k, false, v.now())
		return
	}
	v.c.Go(func(ctx context.Context) {
		defer v.release()
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		data, _, err := v.av.Avatar(ctx, as, remote)
		if err != nil {
			v.hashes.done(k, true, v.now())
			v.c.Logger().Info("cannot fetch a contact's picture for its presence", "remote", remote, "err", err)
			return
		}
		then := v.learn(k, data, users...)
		v.hashes.done(k, false, v.now())
		v.queue(ctx, remote, then)
	})
}

// learn records the picture hash of k's contact from a fetch and, if it is
// new or changed, returns the contact's available presence to each of
// users with it.
func (v *Instance) learn(k key, data []byte, users ...string) []stanza.Presence {
	h := Hash(data)
	if !v.hashes.set(k, h) {
		return nil
	}
	contact, err := mapping.ContactJID(k.remote, v.c.Domain().Domainpart())
	if err != nil {
		return nil
	}
	var out []stanza.Presence
	for _, u := range users {
		out = append(out, stanza.Presence{From: contact.String(), To: u, Avatar: &stanza.VCardUpdate{Photo: h}})
	}
	return out
}

// queue queues presences for XMPP, in order.
func (v *Instance) queue(ctx context.Context, remote transports.Addr, presences []stanza.Presence) {
	for _, p := range presences {
		if err := v.c.Queue(ctx, p); err != nil {
			v.c.Logger().Warn("cannot queue a contact's presence with its picture hash", "remote", remote, "err", err)
			return
		}
	}
}
