package mapping

import (
	"context"
	"database/sql"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectKV = `SELECT value FROM kv WHERE transport = ? AND key = ?`
	upsertKV = `INSERT INTO kv (transport, key, value, expires) VALUES (?, ?, ?, ?)
		ON CONFLICT (transport, key) DO UPDATE SET value = excluded.value, expires = excluded.expires`
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
	return k.set(ctx, key, value, 0)
}

// SetUntil stores value under key until expires, after which Prune
// deletes it.
func (k KV) SetUntil(ctx context.Context, key, value string, expires time.Time) error {
	return k.set(ctx, key, value, expires.UnixMilli())
}

func (k KV) set(ctx context.Context, key, value string, expires int64) error {
	return k.store.tx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, upsertKV, k.transport, key, value, expires)
		return err
	})
}
