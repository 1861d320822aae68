package mapping

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	insertSeenEvent   = `INSERT INTO seen_events (transport, key, created) VALUES (?, ?, ?)`
	keepWrittenEvents = `INSERT INTO seen_events (transport, key, created)
		SELECT transport, event_key, created FROM to_xmpp
		WHERE transport = ? AND id <= ? AND event_key <> '' ORDER BY id`
	selectSeenEvents = `SELECT transport, key, created FROM seen_events
		WHERE created >= ? ORDER BY id DESC LIMIT ?`
	selectQueuedEvents = `SELECT transport, event_key, created FROM to_xmpp
		WHERE event_key <> '' AND created >= ? ORDER BY id DESC LIMIT ?`
	pruneSeenEvents = `DELETE FROM seen_events WHERE id < (SELECT coalesce(
		(SELECT id FROM seen_events WHERE created >= ? ORDER BY id LIMIT 1),
		(SELECT max(id) + 1 FROM seen_events)))`
)

// Retention is how long the store keeps dedupe keys and delivery-report
// records (see Prune): far longer than any provider retries a webhook.
const Retention = 14 * 24 * time.Hour

// The provider events a store that is its database's only writer (SQLite)
// has taken are deduped in memory instead of in the seen table, whose
// random keys cost a page write each. An event's key is written in its
// first stanza's row (to_xmpp.event_key), a page the event writes anyway,
// and moved to seen_events by Written, in the writer's groups; an event
// with no stanza is appended to seen_events at once. The window is rebuilt
// at open from both, newest first. It holds, per transport, the events of
// the last Retention, at most maxEventKeys of them: past that the oldest
// are forgotten first. A provider delivers again what it is not sure was
// taken, which is what was taken last, so the bound shortens the window
// without opening it to those. A store shared by several processes
// (PostgreSQL) keeps seen.

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

// loadEvents rebuilds the window from the events taken: those whose
// stanzas are still queued, and those in seen_events, newest first.
func (s *Store) loadEvents(ctx context.Context) error {
	since := eventsSince(s.millis())
	var taken []eventRow
	for _, q := range []string{selectQueuedEvents, selectSeenEvents} {
		rows, err := s.readEvents(ctx, q, since)
		if err != nil {
			return fmt.Errorf("mapping: load the events taken: %w", err)
		}
		taken = append(taken, rows...)
	}
	slices.SortStableFunc(taken, func(a, b eventRow) int { return cmp.Compare(b.at, a.at) })
	e := newEvents()
	count := map[string]int{}
	keep := taken[:0]
	for _, r := range taken {
		if count[r.transport] < maxEventKeys {
			count[r.transport]++
			keep = append(keep, r)
		}
	}
	for i := len(keep) - 1; i >= 0; i-- {
		r := keep[i]
		e.window(r.transport).add([]keyHash{r.key}, r.at, since)
	}
	s.events = e
	return nil
}

// eventRow is an event taken, as read at open.
type eventRow struct {
	transport string
	key       keyHash
	at        int64
}

// readEvents reads q's events since since, newest first, at most
// maxEventRows of them. Older rows are skipped, not an end: Written
// copies a key with its event's time, so a stanza that waited longer than
// Retention puts an old row above recent ones.
func (s *Store) readEvents(ctx context.Context, q string, since int64) ([]eventRow, error) {
	rows, err := s.db.QueryContext(ctx, q, since, maxEventRows)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []eventRow
	for len(out) < maxEventRows && rows.Next() {
		var key string
		var r eventRow
		if err := rows.Scan(&r.transport, &key, &r.at); err != nil {
			return nil, err
		}
		r.key = hashKey(r.transport, key)
		out = append(out, r)
	}
	return out, rows.Err()
}
