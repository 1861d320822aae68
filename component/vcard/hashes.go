package vcard

import (
	"sync"
	"time"

	"xmppgw/transports"
)

// retryAfter is how long after a failed fetch a contact's picture is not
// fetched again in the background.
const retryAfter = 10 * time.Minute

// Bounds of what is kept per contact. Where users sign in to accounts of
// their own, a user may name any contact, made up or not, in vCard gets
// and presence probes; elsewhere the contacts are the linked chats.
const (
	maxPerUser = 4096  // contacts kept for one user (per-user pictures)
	maxKept    = 65536 // contacts kept in all
)

// hashes remembers, per contact (key), its picture's hash, and which
// background fetches are under way or failed lately. Past the bounds, a
// contact's entry is forgotten: its hash is learned again when next
// needed, and a failed fetch may be retried sooner.
type hashes struct {
	mu       sync.Mutex
	hashes   bounded[string]
	fetching map[key]bool // at most maxFetches at once
	failed   bounded[time.Time]
}

// get returns k's hash, if known.
func (a *hashes) get(k key) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hashes.get(k)
}

// set records k's hash and reports whether it changed.
func (a *hashes) set(k key, hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	old, ok := a.hashes.get(k)
	a.hashes.put(k, hash)
	a.failed.del(k)
	return !ok || old != hash
}

// start reports whether a background fetch for k should begin now, and
// marks it under way if so.
func (a *hashes) start(k key, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.hashes.get(k); ok || a.fetching[k] {
		return false
	}
	if at, ok := a.failed.get(k); ok {
		if now.Before(at.Add(retryAfter)) {
			return false
		}
		a.failed.del(k) // aged out
	}
	if a.fetching == nil {
		a.fetching = map[key]bool{}
	}
	a.fetching[k] = true
	return true
}

// done ends a background fetch for k; failed marks it for a retry only
// after retryAfter.
func (a *hashes) done(k key, failed bool, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.fetching, k)
	if failed {
		a.failed.put(k, now)
	}
}

// bounded maps contacts to values, by user: at most maxPerUser for a user
// other than "" (the one of transports where every user sees the same
// pictures), and maxKept in all. Making room forgets an arbitrary entry of
// the same user, or, past maxKept, of the user with the most. Its caller
// locks.
type bounded[V any] struct {
	users map[string]map[transports.Addr]V
	n     int
}

func (b *bounded[V]) get(k key) (V, bool) {
	v, ok := b.users[k.user][k.remote]
	return v, ok
}

func (b *bounded[V]) put(k key, v V) {
	if _, ok := b.users[k.user][k.remote]; !ok {
		switch {
		case k.user != "" && len(b.users[k.user]) >= maxPerUser:
			b.dropOne(k.user)
		case b.n >= maxKept:
			b.dropOne(b.largest())
		}
		b.n++
	}
	if b.users == nil {
		b.users = map[string]map[transports.Addr]V{}
	}
	m := b.users[k.user]
	if m == nil {
		m = map[transports.Addr]V{}
		b.users[k.user] = m
	}
	m[k.remote] = v
}

func (b *bounded[V]) del(k key) {
	m := b.users[k.user]
	if _, ok := m[k.remote]; !ok {
		return
	}
	delete(m, k.remote)
	b.n--
	if len(m) == 0 {
		delete(b.users, k.user)
	}
}

// len is the number of entries, of all users.
func (b *bounded[V]) len() int { return b.n }

// dropOne forgets one of user's entries.
func (b *bounded[V]) dropOne(user string) {
	for remote := range b.users[user] {
		b.del(key{user, remote})
		return
	}
}

// largest is the user with the most entries.
func (b *bounded[V]) largest() string {
	var most string
	for u, m := range b.users {
		if len(m) > len(b.users[most]) {
			most = u
		}
	}
	return most
}
