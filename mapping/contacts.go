package mapping

import (
	"context"
	"database/sql"
	"maps"
	"slices"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectContacts = `SELECT key, name FROM contacts`
	upsertContact  = `INSERT INTO contacts (key, name, updated) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, updated = excluded.updated`
)

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

// Import stores names (key -> name), replacing those of the same keys, in
// one transaction.
func (h ContactTable) Import(ctx context.Context, names map[string]string) error {
	s := h.s
	return s.tx(ctx, func(tx *sqlTx) error {
		for _, k := range slices.Sorted(maps.Keys(names)) {
			if _, err := tx.ExecContext(ctx, upsertContact, k, names[k], s.millis()); err != nil {
				return err
			}
		}
		return nil
	})
}
