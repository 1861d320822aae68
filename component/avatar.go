package component

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// XEP-0153: a contact's available presence carries the SHA-1 of its
// picture, so that clients know to fetch its vCard (and when to fetch it
// again). The gateway learns the hash when it fetches the picture for a
// vCard, and in the background when a chat is linked or writes while its
// hash is unknown; it then sends the contact's presence again with it.
// Hashes are kept in memory: after a restart they are learned again.

const nsVCardUpdate = "vcard-temp:x:update"

// avatarRetry is how long after a failed fetch a contact's picture is not
// fetched again in the background.
const avatarRetry = 10 * time.Minute

// avatarHashes remembers, per contact address, its picture's hash, and
// which background fetches are under way or failed lately.
type avatarHashes struct {
	mu       sync.Mutex
	hashes   map[transports.Addr]string
	fetching map[transports.Addr]bool
	failed   map[transports.Addr]time.Time
}

// get returns remote's hash, if known.
func (a *avatarHashes) get(remote transports.Addr) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.hashes[remote]
	return h, ok
}

// set records remote's hash and reports whether it changed.
func (a *avatarHashes) set(remote transports.Addr, hash string) bool {
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
func (a *avatarHashes) start(remote transports.Addr, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.hashes[remote]; ok || a.fetching[remote] || now.Before(a.failed[remote].Add(avatarRetry)) {
		return false
	}
	if a.fetching == nil {
		a.fetching = map[transports.Addr]bool{}
	}
	a.fetching[remote] = true
	return true
}

// done ends a background fetch for remote; failed marks it for a retry
// only after avatarRetry.
func (a *avatarHashes) done(remote transports.Addr, failed bool, now time.Time) {
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

// avatarHash is the hex SHA-1 of a picture, "" for none.
func avatarHash(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// avatarUpdate is the XEP-0153 element for remote's presence, or nil if
// its hash is not known (or the transport has no pictures).
func (g *Gateway) avatarUpdate(remote transports.Addr) *vcardUpdate {
	if h, ok := g.hashes.get(remote); ok {
		return &vcardUpdate{Photo: h}
	}
	return nil
}

// learnAvatar records remote's picture hash from a fetch and, if it is new
// or changed, returns the contact's available presence to each of users
// with it.
func (g *Gateway) learnAvatar(remote transports.Addr, data []byte, users ...string) [][]byte {
	h := avatarHash(data)
	if !g.hashes.set(remote, h) {
		return nil
	}
	contact, err := mapping.ContactJID(remote, g.domain.Domainpart())
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, u := range users {
		out = append(out, render(presence{From: contact.String(), To: u, Avatar: &vcardUpdate{Photo: h}}))
	}
	return out
}

// refreshAvatar learns remote's picture hash in the background, if it is
// not known, and then sends its presence with the hash to users (bare
// JIDs) through the queue to XMPP. It never blocks: if too many fetches
// are under way it does nothing, and the hash is learned another time.
func (g *Gateway) refreshAvatar(remote transports.Addr, users ...string) {
	av, ok := g.o.Transport.(transports.Avatars)
	if !ok || len(users) == 0 {
		return
	}
	if !g.hashes.start(remote, time.Now()) {
		return
	}
	select {
	case g.avatars <- struct{}{}:
	default:
		g.hashes.done(remote, false, time.Now())
		return
	}
	go func() {
		defer func() { <-g.avatars }()
		ctx, cancel := context.WithTimeout(context.Background(), avatarTimeout)
		defer cancel()
		data, _, err := av.Avatar(ctx, remote)
		if err != nil {
			g.hashes.done(remote, true, time.Now())
			g.log.Info("cannot fetch a contact's picture for its presence", "remote", remote, "err", err)
			return
		}
		stanzas := g.learnAvatar(remote, data, users...)
		g.hashes.done(remote, false, time.Now())
		if len(stanzas) == 0 {
			return
		}
		key := "avatar:" + string(remote) + ":" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if _, err := g.o.Store.Accept(ctx, g.name, key, stanzas...); err != nil {
			g.log.Warn("cannot queue a contact's presence with its picture hash", "remote", remote, "err", err)
			return
		}
		wake(g.wakeIn)
	}()
}
