package mapping

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const selectContacts = `SELECT key, name FROM contacts`

// ContactTable holds the address book's imported names (contacts).
type ContactTable struct{ s *Store }

// Contacts is the store's address book.
func (s *Store) Contacts() ContactTable { return ContactTable{s} }

// Names returns every name, by key: a contact's JID, or a number.
func (h ContactTable) Names(ctx context.Context) (map[string]string, error) {
	type row struct{ key, name string }
	rows, err := queryAll(ctx, h.s.query, func(r *sql.Rows, v *row) error { return r.Scan(&v.key, &v.name) }, selectContacts)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.key] = r.name
	}
	return out, nil
}

// importChunk is the most names Import writes in one statement, each in a
// transaction of its own.
const importChunk = 512

// Import stores names (key -> name), replacing those of the same keys. It
// writes them in chunks, each one statement in a transaction of its own
// that keeps no other writer waiting (txUnlocked), so that an address book
// of any size is no wait for a running gateway; if it fails, some chunks
// may be stored (importing again is harmless).
func (h ContactTable) Import(ctx context.Context, names map[string]string) error {
	s := h.s
	keys := slices.Sorted(maps.Keys(names))
	for len(keys) > 0 {
		// Chunks of powers of two: few statements to prepare.
		n := importChunk
		for n > len(keys) {
			n /= 2
		}
		args := make([]any, 0, 3*n)
		now := s.millis()
		for _, k := range keys[:n] {
			args = append(args, k, names[k], now)
		}
		keys = keys[n:]
		if err := s.txUnlocked(ctx, func(tx *sqlTx) error {
			_, err := tx.ExecContext(ctx, upsertContacts(n), args...)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// upsertContacts inserts or replaces n contacts (key, name, updated).
func upsertContacts(n int) string {
	return `INSERT INTO contacts (key, name, updated) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, n-1) + `
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, updated = excluded.updated`
}
