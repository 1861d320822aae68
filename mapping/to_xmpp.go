package mapping

import (
	"context"
	"database/sql"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	insertSeen = `INSERT INTO seen (transport, key, created)
		VALUES (?, ?, ?) ON CONFLICT (transport, key) DO NOTHING`
	insertStanza         = `INSERT INTO to_xmpp (transport, stanza, created) VALUES (?, ?, ?)`
	insertEventStanza    = `INSERT INTO to_xmpp (transport, stanza, created, event_key) VALUES (?, ?, ?, ?)`
	selectPendingStanzas = `SELECT id, stanza FROM to_xmpp
		WHERE transport = ? AND id > ? ORDER BY id LIMIT ?`
	deleteWritten = `DELETE FROM to_xmpp WHERE transport = ? AND id <= ?`
	updateStanza  = `UPDATE to_xmpp SET stanza = ? WHERE transport = ? AND id = ?`
	selectSeenKey = `SELECT 1 FROM seen WHERE transport = ? AND key = ? AND created >= ?`
)

// Queued is a stanza waiting to be written to the XMPP server.
type Queued struct {
	ID     int64
	Stanza []byte // serialised XML of one stanza
}

// Accept stores stanzas for delivery to XMPP unless the provider event key
// was accepted before. It reports whether it was a duplicate. Both happen in
// one transaction: a stored event is never lost, and never stored twice.
// An empty key disables the dedupe.
func (h StanzaTable) Accept(ctx context.Context, transport, key string, stanzas ...[]byte) (dup bool, err error) {
	_, dup, err = h.AcceptIDs(ctx, transport, key, stanzas...)
	return dup, err
}

// Taken reports whether the provider event key was accepted (Accept)
// within Retention. It only reads: an event handled without stanzas (an
// answer to an alert) is looked up first, and Accepted once handled.
func (h StanzaTable) Taken(ctx context.Context, transport, key string) (bool, error) {
	s := h.s
	since := eventsSince(s.millis())
	if s.events != nil {
		k := hashKey(transport, key)
		s.events.mu.Lock()
		defer s.events.mu.Unlock()
		return s.events.window(transport).has(k, since), nil
	}
	var one int
	switch err := s.queryRow(ctx, selectSeenKey, transport, key, since).Scan(&one); err {
	case nil:
		return true, nil
	case sql.ErrNoRows:
		return false, nil
	default:
		return false, unavailable(err)
	}
}

// AcceptIDs is Accept, also returning the queue ids of the stanzas.
func (h StanzaTable) AcceptIDs(ctx context.Context, transport, key string, stanzas ...[]byte) (ids []int64, dup bool, err error) {
	return h.s.acceptIDs(ctx, transport, key, nil, stanzas...)
}

// acceptIDs is AcceptIDs, also running also(tx, now) in the transaction
// when the key is new.
func (s *Store) acceptIDs(ctx context.Context, transport, key string, also func(tx *sqlTx, now int64) error, stanzas ...[]byte) (ids []int64, dup bool, err error) {
	now := s.millis()
	inSeen := key != "" && s.events == nil
	if key != "" && s.events != nil {
		h, since := hashKey(transport, key), eventsSince(now)
		if dup, err := s.events.claim(ctx, transport, h, since); dup || err != nil {
			return nil, dup, err
		}
		defer func() { s.events.done(transport, h, err == nil && !dup, now, since) }()
	}
	err = s.txRerun(ctx, func(tx *sqlTx) error {
		ids, dup = ids[:0], false // the committer may run this again
		if inSeen {
			res, err := tx.ExecContext(ctx, insertSeen, transport, key, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				dup = true
				return nil
			}
		} else if key != "" && len(stanzas) == 0 {
			if _, err := tx.ExecContext(ctx, insertSeenEvent, transport, key, now); err != nil {
				return err
			}
		}
		if also != nil {
			if err := also(tx, now); err != nil {
				return err
			}
		}
		for i, st := range stanzas {
			q, args := insertStanza, []any{transport, st, now}
			if i == 0 && key != "" && !inSeen {
				q, args = insertEventStanza, append(args, key) // see seen_events
			}
			id, err := tx.insertID(q, args...)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, dup, err
}

func queueStanza(ctx context.Context, tx *sqlTx, transport string, stanza []byte, now int64) error {
	_, err := tx.ExecContext(ctx, insertStanza,
		transport, stanza, now)
	return err
}

// Pending returns up to limit stanzas of transport waiting for XMPP, oldest
// first.
func (h StanzaTable) Pending(ctx context.Context, transport string, limit int) ([]Queued, error) {
	return h.PendingAfter(ctx, transport, 0, limit)
}

// PendingAfter is Pending for the stanzas with ids above after.
func (h StanzaTable) PendingAfter(ctx context.Context, transport string, after int64, limit int) ([]Queued, error) {
	s := h.s
	out, err := queryAll(ctx, s.query, func(r *sql.Rows, q *Queued) error { return r.Scan(&q.ID, &q.Stanza) },
		selectPendingStanzas, transport, after, limit)
	return out, unavailable(err)
}

// Replace stores new serialisations of stanzas of transport waiting for
// XMPP, by queue id, in one transaction; ids no longer waiting are
// skipped. It is for the start, before anything writes them (a domain
// changed: see cmd/xmppgw's checkDomains).
func (h StanzaTable) Replace(ctx context.Context, transport string, stanzas []Queued) error {
	return h.s.tx(ctx, func(tx *sqlTx) error {
		for _, q := range stanzas {
			if _, err := tx.ExecContext(ctx, updateStanza, q.Stanza, transport, q.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// Written removes stanzas of transport up to and including id, once they
// have been written to the server.
func (h StanzaTable) Written(ctx context.Context, transport string, upTo int64) error {
	s := h.s
	return s.txPatient(ctx, func(tx *sqlTx) error {
		if s.events != nil {
			if _, err := tx.ExecContext(ctx, keepWrittenEvents, transport, upTo); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, deleteWritten, transport, upTo)
		return err
	})
}
