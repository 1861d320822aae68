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

// readyHandler answers /readyz: 200 "ready" on the active instance while
// the store can be written and every component is connected, else 503 and
// why. The answer never holds the store's own error (it may name hosts,
// users or files): that is logged, at most once a minute.
func readyHandler(active *atomic.Bool, store *mapping.Store, gateways []*component.Gateway, log *slog.Logger) http.HandlerFunc {
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
				http.Error(w, "transport "+g.Name()+": component not connected", http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ready\n")
	}
}
