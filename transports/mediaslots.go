package transports

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// MediaWait is how long a media GET past a bound waits for a slot before
// it is answered 503. Those who open media do not retry: XMPP clients
// ignore Retry-After, and Twilio fails an MMS whose media fetch fails
// (11200). So a burst (one MMS's or album's files opened at once) waits
// its turn instead, well within the ~15 s Twilio gives a fetch.
const MediaWait = 10 * time.Second

// MediaPerURL is how many GETs of one media URL are served at once (a
// client may open one twice: to preview and to save). Whoever holds one
// link, reading slowly, holds no more slots than that.
const MediaPerURL = 2

// MediaSlots bounds the media GETs a handler serves at once: each may
// call a provider's API and hold a connection to it while the client
// reads, and anyone holding one media URL may ask for it any number of
// times at once. The zero value is ready to use. It is safe for
// concurrent use.
type MediaSlots struct {
	mu      sync.Mutex
	serving int
	waiting int
	perURL  map[string]int
	freed   chan struct{} // closed (and dropped) when a slot is given back
	wait    time.Duration // MediaWait if 0 (tests shorten it)
}

// Acquire takes a slot for a GET of key (what names the file: the signed
// part of its URL) if fewer than limit are taken, and fewer than
// MediaPerURL for key. Otherwise it waits for one to be given back, for
// up to MediaWait or until ctx is done (the client went away). It
// reports whether it took one; the caller must then Release(key) once
// done.
func (m *MediaSlots) Acquire(ctx context.Context, limit int, key string) bool {
	var timeout *time.Timer
	m.mu.Lock()
	for m.serving >= limit || m.perURL[key] >= MediaPerURL {
		if timeout == nil {
			wait := m.wait
			if wait <= 0 {
				wait = MediaWait
			}
			timeout = time.NewTimer(wait)
			defer timeout.Stop()
		}
		if m.freed == nil {
			m.freed = make(chan struct{})
		}
		freed := m.freed
		m.waiting++
		m.mu.Unlock()
		var gaveUp bool
		select {
		case <-freed:
		case <-timeout.C:
			gaveUp = true
		case <-ctx.Done():
			gaveUp = true
		}
		m.mu.Lock()
		m.waiting--
		if gaveUp {
			m.mu.Unlock()
			return false
		}
	}
	if m.perURL == nil {
		m.perURL = map[string]int{}
	}
	m.serving++
	m.perURL[key]++
	m.mu.Unlock()
	return true
}

// Release gives back a slot Acquire took for key, to a GET waiting for
// one if any.
func (m *MediaSlots) Release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serving--
	if m.perURL[key]--; m.perURL[key] <= 0 {
		delete(m.perURL, key)
	}
	if m.freed != nil {
		close(m.freed)
		m.freed = nil
	}
}

// Load is how many GETs hold a slot now, and how many wait for one.
func (m *MediaSlots) Load() (serving, waiting int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serving, m.waiting
}

// MediaBusy answers a media GET that found no slot in time: 503 with
// Retry-After: 1, the media headers (see SetMediaHeaders) and msg.
func MediaBusy(w http.ResponseWriter, msg string) {
	SetMediaHeaders(w.Header())
	w.Header().Set("Retry-After", "1")
	http.Error(w, msg, http.StatusServiceUnavailable)
}
