package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"xmppgw/component"
	"xmppgw/mapping"
)

// readyStoreTimeout bounds how long /readyz waits for the store.
const readyStoreTimeout = 2 * time.Second

// componentLink is what /readyz asks of a transport's gateway
// (*component.Gateway).
type componentLink interface {
	Name() string
	Connected() bool
	// ConnectError is why the last attempt to connect failed, or nil.
	ConnectError() error
}

var _ componentLink = (*component.Gateway)(nil)

// readyHandler answers /readyz: 200 "ready" on the active instance while
// the store can be written and every component is connected, else 503 and
// why: for a component that is not, with why its last attempt to connect
// failed (the dial's or the handshake's error, which names no secret).
// The answer never holds the store's own error (it may name hosts, users
// or files): that is logged, at most once a minute.
func readyHandler[L componentLink](active *atomic.Bool, store *mapping.Store, gateways []L, log *slog.Logger) http.HandlerFunc {
	var mu sync.Mutex
	var lastWarn time.Time
	warn := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(lastWarn) >= time.Minute {
			lastWarn = time.Now()
			log.Warn("readyz: the store is unavailable", "err", err)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyStoreTimeout)
		defer cancel()
		if !active.Load() {
			msg := "standby: another instance is active"
			if err := store.Ping(ctx); err != nil {
				msg = "standby: the store cannot be reached"
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		err := store.Ping(ctx)
		if err == nil {
			err = store.CheckWrite(ctx)
		}
		if err != nil {
			warn(err)
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		for _, g := range gateways {
			if !g.Connected() {
				msg := "transport " + g.Name() + ": component not connected"
				if err := g.ConnectError(); err != nil {
					msg += ": " + err.Error()
				}
				http.Error(w, msg, http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ready\n")
	}
}
