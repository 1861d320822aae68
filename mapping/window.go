package mapping

import (
	"crypto/sha256"
	"strings"
	"sync"
)

// keyHash is a dedupe key as a window in memory holds it: the first 16
// bytes of its SHA-256.
type keyHash [16]byte

// hashKey hashes the parts of a key, joined by zero bytes.
func hashKey(parts ...string) keyHash {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return keyHash(h[:16])
}

// keyWindow is a dedupe window in memory: keys with the time each was
// committed, bounded in age (by the since of each add) and in count (max,
// the oldest forgotten first, which only shortens the window).
type keyWindow struct {
	mu    sync.Mutex
	max   int
	at    map[keyHash]int64 // key -> when it was committed (unix ms)
	order []windowEntry     // by time added, oldest first, from head on
	head  int
}

type windowEntry struct {
	key keyHash
	at  int64
}

func newKeyWindow(max int) *keyWindow {
	return &keyWindow{max: max, at: make(map[keyHash]int64)}
}

// has reports whether key was committed at or after since.
func (r *keyWindow) has(key keyHash, since int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[key]
	return ok && at >= since
}

// remove forgets key.
func (r *keyWindow) remove(key keyHash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.at, key) // its entry in order is skipped when it expires
}

// add records keys as committed at now and forgets those older than since
// or past the window's size.
func (r *keyWindow) add(keys []keyHash, now, since int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.at[k] = now
		r.order = append(r.order, windowEntry{k, now})
	}
	for r.head < len(r.order) && (r.order[r.head].at < since || len(r.order)-r.head > r.max) {
		e := r.order[r.head]
		if r.at[e.key] == e.at {
			delete(r.at, e.key)
		}
		r.head++
	}
	if r.head > len(r.order)/2 { // compact, in amortised O(1) per key
		r.order = append(r.order[:0], r.order[r.head:]...)
		r.head = 0
	}
}
