package transports

import (
	"net/http"
	"sync/atomic"
)

// MediaSlots counts the media GETs a handler is serving, so that it can
// bound them: each may call a provider's API and hold a connection to it,
// and anyone holding one media URL may ask for it any number of times at
// once. The zero value is ready to use. It is safe for concurrent use.
type MediaSlots struct{ n atomic.Int32 }

// Acquire takes a slot if fewer than limit are taken; the caller must
// Release it once done.
func (m *MediaSlots) Acquire(limit int) bool {
	if m.n.Add(1) > int32(limit) {
		m.n.Add(-1)
		return false
	}
	return true
}

// Release gives back a slot Acquire took.
func (m *MediaSlots) Release() { m.n.Add(-1) }

// MediaBusy answers a media GET past its handler's limit: 503 with
// Retry-After: 1, the media headers (see SetMediaHeaders) and msg.
func MediaBusy(w http.ResponseWriter, msg string) {
	SetMediaHeaders(w.Header())
	w.Header().Set("Retry-After", "1")
	http.Error(w, msg, http.StatusServiceUnavailable)
}
