package mapping

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	insertSeenEvent  = `INSERT INTO seen_events (transport, key, created) VALUES (?, ?, ?)`
	selectSeenEvents = `SELECT transport, key, created FROM seen_events ORDER BY id DESC`
	pruneSeenEvents  = `DELETE FROM seen_events WHERE id < (SELECT coalesce(
		(SELECT id FROM seen_events WHERE created >= ? ORDER BY id LIMIT 1),
		(SELECT max(id) + 1 FROM seen_events)))`
)

// Retention is how long the store keeps dedupe keys and delivery-report
// records (see Prune): far longer than any provider retries a webhook.
const Retention = 14 * 24 * time.Hour

// The provider events a store that is its database's only writer (SQLite)
// has taken are deduped in memory instead of in the seen table, whose
// random keys cost a page write each, a quarter of an inbound message's
// cost in the store. Each is appended to seen_events in the transaction
// that takes it, and the window is rebuilt from there at open, newest
// first. It holds, per transport, the events of the last Retention, at
// most maxEventKeys of them: past that the oldest are forgotten first. A
// provider delivers again what it is not sure was taken, which is what
// was taken last, so the bound shortens the window without opening it to
// those. A store shared by several processes (PostgreSQL) keeps seen.

// maxEventKeys bounds a transport's window (about 6 MiB).
const maxEventKeys = 100_000

// maxEventRows bounds the rows read at open, newest first.
const maxEventRows = 8 * maxEventKeys

// events is the in-memory dedupe of provider events.
type events struct {
	mu     sync.Mutex
	win    map[string]*keyWindow     // by transport
	claims map[keyHash]chan struct{} // keys being taken, closed when done
}

func newEvents() *events {
	return &events{win: map[string]*keyWindow{}, claims: map[keyHash]chan struct{}{}}
}

func (e *events) window(transport string) *keyWindow {
	w := e.win[transport]
	if w == nil {
		w = newKeyWindow(maxEventKeys)
		e.win[transport] = w
	}
	return w
}

// claim makes the caller the one taking key, unless it was taken since
// since (dup) or another caller is taking it, in which case it waits for
// that one to finish and looks again. A claim is ended by done.
func (e *events) claim(ctx context.Context, transport string, key keyHash, since int64) (dup bool, err error) {
	for {
		e.mu.Lock()
		if e.window(transport).has(key, since) {
			e.mu.Unlock()
			return true, nil
		}
		wait, taking := e.claims[key]
		if !taking {
			e.claims[key] = make(chan struct{})
			e.mu.Unlock()
			return false, nil
		}
		e.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
	}
}

// done ends the claim on key; taken says it was committed at now.
func (e *events) done(transport string, key keyHash, taken bool, now, since int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if taken {
		e.window(transport).add([]keyHash{key}, now, since)
	}
	close(e.claims[key])
	delete(e.claims, key)
}

// forget drops the keys taken before before (see Prune).
func (e *events) forget(before int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range e.win {
		w.add(nil, 0, before)
	}
}

// eventsSince is the start of the window at now.
func eventsSince(now int64) int64 { return now - Retention.Milliseconds() }

// loadEvents rebuilds the window from seen_events.
func (s *Store) loadEvents(ctx context.Context) error {
	since := eventsSince(s.millis())
	rows, err := s.db.QueryContext(ctx, selectSeenEvents)
	if err != nil {
		return fmt.Errorf("mapping: load the events taken: %w", err)
	}
	defer rows.Close()
	type row struct {
		transport string
		key       keyHash
		at        int64
	}
	var newest []row // newest first
	count := map[string]int{}
	for n := 0; n < maxEventRows && rows.Next(); n++ {
		var transport, key string
		var r row
		if err := rows.Scan(&transport, &key, &r.at); err != nil {
			return fmt.Errorf("mapping: load the events taken: %w", err)
		}
		if r.at < since {
			break
		}
		if count[transport] == maxEventKeys {
			continue
		}
		count[transport]++
		newest = append(newest, row{transport, hashKey(transport, key), r.at})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mapping: load the events taken: %w", err)
	}
	e := newEvents()
	for i := len(newest) - 1; i >= 0; i-- {
		r := newest[i]
		e.window(r.transport).add([]keyHash{r.key}, r.at, since)
	}
	s.events = e
	return nil
}
