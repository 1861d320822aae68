package mapping

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectQueuedResendKeys = `SELECT transport, sender, account, remote, body, stanza_id,
		replaces, reply_to, quote, media, retracts, react_to, reactions, created FROM outbox
		WHERE stanza_id <> '' ORDER BY id`
	selectSentResendKeys = `SELECT resend_key, created FROM sent ORDER BY rowid DESC`
	selectSeenResendKeys = `SELECT transport, key, created FROM seen WHERE created >= ?`
	pruneSeenResendKeys  = `DELETE FROM seen WHERE created < ?`
)

// The resend window (see Enqueue) of a store that is its database's only
// writer (SQLite) is kept in memory instead of in the seen table: a
// random key written per message was a fifth of a message's cost in the
// store. It is rebuilt at open from what the database already holds:
//   - every queued job (its key is computed from its row);
//   - every send recorded in the last resendWindow (sent.resend_key);
//   - the sends of the last resendWindow with no sent row of their own (no
//     provider id, or a correction known by its original's provider id):
//     Sent keeps their keys in seen, as PostgreSQL does for every job.
// A job that failed is forgotten (Failed): its sender may send it again. A
// store shared by several processes (PostgreSQL) keeps the seen
// table; another process opening the same SQLite file (a shell command)
// has a window of its own.

// maxResendKeys bounds the window's memory (about 6 MiB); past it the
// oldest keys are forgotten first, which only shortens the window.
const maxResendKeys = 100_000

// resendHash is j's key in the window.
func resendHash(j Job) keyHash { return hashKey(j.Transport, resendKey(j)) }

// resendKeyOf is the value of sent.resend_key for j: its window key in hex,
// or "" if j has none (no stanza id).
func resendKeyOf(j Job) string {
	if j.StanzaID == "" {
		return ""
	}
	h := resendHash(j)
	return hex.EncodeToString(h[:])
}

// loadResendKeys rebuilds the window from the queued jobs and the sends
// recorded since the window's start.
func (s *Store) loadResendKeys(ctx context.Context) error {
	now := s.millis()
	since := now - resendWindow.Milliseconds()
	r := newKeyWindow(maxResendKeys)
	jobs, err := queryAll(ctx, s.db.QueryContext, func(r *sql.Rows, e *windowEntry) error {
		var j Job
		var media, reactions string
		if err := r.Scan(&j.Transport, &j.Sender, &j.Account, &j.Remote, &j.Body, &j.StanzaID,
			&j.Replaces, &j.ReplyTo, &j.Quote, &media, &j.Retracts, &j.ReactTo, &reactions, &e.at); err != nil {
			return err
		}
		j.Media, j.Reactions = splitLines(media), splitLines(reactions)
		e.key = resendHash(j)
		return nil
	}, selectQueuedResendKeys)
	if err != nil {
		return fmt.Errorf("mapping: load the resend window: %w", err)
	}
	// sent in insertion order, newest first, until the window's start.
	sent, err := s.db.QueryContext(ctx, selectSentResendKeys)
	if err != nil {
		return fmt.Errorf("mapping: load the resend window: %w", err)
	}
	defer sent.Close()
	var recent []windowEntry
	for sent.Next() {
		var key string
		var created int64
		if err := sent.Scan(&key, &created); err != nil {
			return fmt.Errorf("mapping: load the resend window: %w", err)
		}
		if created < since {
			break
		}
		var k keyHash
		if n, err := hex.Decode(k[:], []byte(key)); err != nil || n != len(k) {
			continue // none (no stanza id), or not ours
		}
		recent = append(recent, windowEntry{k, created})
	}
	if err := sent.Err(); err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("mapping: load the resend window: %w", err)
	}
	kept, err := queryAll(ctx, s.db.QueryContext, func(r *sql.Rows, e *windowEntry) error {
		var transport, key string
		if err := r.Scan(&transport, &key, &e.at); err != nil {
			return err
		}
		e.key = hashKey(transport, key)
		return nil
	}, selectSeenResendKeys, since)
	if err != nil {
		return fmt.Errorf("mapping: load the resend window: %w", err)
	}
	all := append(append(recent, kept...), jobs...)
	slices.SortStableFunc(all, func(a, b windowEntry) int { return cmp.Compare(a.at, b.at) })
	for _, e := range all {
		r.add([]keyHash{e.key}, e.at, since)
	}
	s.resend = r
	return nil
}
