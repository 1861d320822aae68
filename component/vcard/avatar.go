package vcard

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"sync"
	"time"

	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// XEP-0153: a contact's available presence carries the SHA-1 of its
// picture, so that clients know to fetch its vCard (and when to fetch it
// again). The module learns the hash when it fetches the picture for a
// vCard, and in the background when the core asks (RefreshAvatar: a chat
// linked, a message or a presence while its hash is unknown); it then
// sends the contact's presence again with it. Hashes are kept in memory:
// after a restart they are learned again.

// retryAfter is how long after a failed fetch a contact's picture is not
// fetched again in the background.
const retryAfter = 10 * time.Minute

// hashes remembers, per contact address, its picture's hash, and which
// background fetches are under way or failed lately.
type hashes struct {
	mu       sync.Mutex
	hashes   map[transports.Addr]string
	fetching map[transports.Addr]bool
	failed   map[transports.Addr]time.Time
}

// get returns remote's hash, if known.
func (a *hashes) get(remote transports.Addr) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.hashes[remote]
	return h, ok
}

// set records remote's hash and reports whether it changed.
func (a *hashes) set(remote transports.Addr, hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hashes == nil {
		a.hashes = map[transports.Addr]string{}
	}
	old, ok := a.hashes[remote]
	a.hashes[remote] = hash
	delete(a.failed, remote)
	return !ok || old != hash
}

// start reports whether a background fetch for remote should begin now,
// and marks it under way if so.
func (a *hashes) start(remote transports.Addr, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.hashes[remote]; ok || a.fetching[remote] || now.Before(a.failed[remote].Add(retryAfter)) {
		return false
	}
	if a.fetching == nil {
		a.fetching = map[transports.Addr]bool{}
	}
	a.fetching[remote] = true
	return true
}

// done ends a background fetch for remote; failed marks it for a retry
// only after retryAfter.
func (a *hashes) done(remote transports.Addr, failed bool, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.fetching, remote)
	if failed {
		if a.failed == nil {
			a.failed = map[transports.Addr]time.Time{}
		}
		a.failed[remote] = now
	}
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
// presence, or nil if its hash is not known (or the transport has no
// pictures).
func (v *Instance) AvatarUpdate(remote transports.Addr) *stanza.VCardUpdate {
	if h, ok := v.hashes.get(remote); ok {
		return &stanza.VCardUpdate{Photo: h}
	}
	return nil
}

// RefreshAvatar implements core.Avatars: it learns remote's picture hash
// in a goroutine of the core's (Core.Go), if it is not known, and then
// queues remote's presence with the hash to users. It never blocks: if too
// many fetches are under way it does nothing, and the hash is learned
// another time.
func (v *Instance) RefreshAvatar(remote transports.Addr, users ...string) {
	if v.av == nil || len(users) == 0 || !v.hashes.start(remote, v.now()) {
		return
	}
	if !v.acquire() {
		v.hashes.done(remote, false, v.now())
		return
	}
	v.c.Go(func(ctx context.Context) {
		defer v.release()
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		data, _, err := v.av.Avatar(ctx, remote)
		if err != nil {
			v.hashes.done(remote, true, v.now())
			v.c.Logger().Info("cannot fetch a contact's picture for its presence", "remote", remote, "err", err)
			return
		}
		then := v.learn(remote, data, users...)
		v.hashes.done(remote, false, v.now())
		v.queue(ctx, remote, then)
	})
}

// learn records remote's picture hash from a fetch and, if it is new or
// changed, returns the contact's available presence to each of users with
// it.
func (v *Instance) learn(remote transports.Addr, data []byte, users ...string) []stanza.Presence {
	h := Hash(data)
	if !v.hashes.set(remote, h) {
		return nil
	}
	contact, err := mapping.ContactJID(remote, v.c.Domain().Domainpart())
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
