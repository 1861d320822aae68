package mapping

import (
	"context"
	"database/sql"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectKV = `SELECT value FROM kv WHERE transport = ? AND key = ?`
	upsertKV = `INSERT INTO kv (transport, key, value) VALUES (?, ?, ?)
		ON CONFLICT (transport, key) DO UPDATE SET value = excluded.value`
)

// KV is a transport's durable key-value state in the store.
type KV struct {
	store     *Store
	transport string
}

// KV returns the key-value state of transport.
func (s *Store) KV(transport string) KV { return KV{s, transport} }

// Get returns the value of key, or "" if it was never set.
func (k KV) Get(ctx context.Context, key string) (string, error) {
	var v string
	err := k.store.queryRow(ctx, selectKV,
		k.transport, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err)
	}
	return v, nil
}

// Set stores value under key.
func (k KV) Set(ctx context.Context, key, value string) error {
	return k.store.tx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, upsertKV, k.transport, key, value)
		return err
	})
}
