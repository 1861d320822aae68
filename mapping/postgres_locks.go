package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Advisory lock keys of the store on PostgreSQL (64-bit, database-wide),
// as they are in the schema public; see lockKeysOf for other schemas.
const (
	migrateLockKey int64 = 0x786d_7070_6777_0001 // "xmppgw" 1: migrations
	leaderLockKey  int64 = 0x786d_7070_6777_0002 // "xmppgw" 2: Lead
	writeLockKey   int64 = 0x786d_7070_6777_0003 // "xmppgw" 3: write transactions
)

// lockKeys are the advisory lock keys of a PostgreSQL store, fixed when it
// opens: every lock it takes uses them, whatever the sessions'
// search_path later resolves to.
type lockKeys struct {
	schema                 string // the schema whose keys they are: the one holding the store's tables
	migrate, leader, write int64
}

// lockKeysOf returns the lock keys of the store whose tables are (or, on a
// new database, will be created) in schema. Advisory locks are
// database-wide: each deployment in a schema of its own leads, writes and
// migrates apart from the others. In the schema public they are the
// constants above, as before schemas had keys of their own (a rolling
// upgrade sees the older instance's lead); in another they are the
// constants XOR a hash of the schema's name (hashtextextended, as stable
// across PostgreSQL versions as hash partitioning needs it to be).
func lockKeysOf(ctx context.Context, q querier, schema string) (lockKeys, error) {
	k := lockKeys{schema: schema, migrate: migrateLockKey, leader: leaderLockKey, write: writeLockKey}
	if schema == "public" {
		return k, nil
	}
	var h int64
	if err := q.QueryRowContext(ctx, `SELECT hashtextextended($1, 0)`, schema).Scan(&h); err != nil {
		return lockKeys{}, fmt.Errorf("%w: hash the schema's name: %w", ErrUnavailable, err)
	}
	k.migrate ^= h
	k.leader ^= h
	k.write ^= h
	return k, nil
}

// storeSchema returns the schema holding the store's tables: the one
// where the search_path finds schema_version or, if it finds none (a new
// database), the current schema (current_schema(): the first schema of
// the search_path that exists), where the migrations create them. It
// refuses a store whose tables are elsewhere than in the current schema:
// a migration would then create tables apart from the others, and the
// store's schema would change with the schemas that exist (say one named
// like the role, which the default search_path "$user", public puts
// first).
func storeSchema(ctx context.Context, q querier) (string, error) {
	var current, tables sql.NullString
	err := q.QueryRowContext(ctx, `SELECT current_schema(),
		(SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid = to_regclass('schema_version'))`).Scan(&current, &tables)
	if err != nil {
		return "", fmt.Errorf("%w: read the store's schema: %w", ErrUnavailable, err)
	}
	switch {
	case !current.Valid && !tables.Valid:
		return "", errors.New("mapping: no schema of the postgres search_path exists: " +
			"create the store's schema, or set search_path in the dsn to an existing one")
	case !tables.Valid:
		return current.String, nil
	case tables.String != current.String:
		return "", fmt.Errorf("mapping: the postgres search_path finds the store's tables in the schema %q, "+
			"but its first existing schema (current_schema()) is %q, where new tables would go: "+
			"set search_path in the dsn to the store's schema (search_path=%s), "+
			"or to the new schema alone for a new store there", tables.String, current.String, tables.String)
	}
	return tables.String, nil
}

// fixLockKeys sets s's lock keys, before it migrates: those of the schema
// holding its tables or, on a new database, of the schema the migrations
// will create them in (and whose migration lock they take first).
func (s *Store) fixLockKeys(ctx context.Context) error {
	schema, err := storeSchema(ctx, s.db)
	if err != nil {
		return err
	}
	s.locks, err = lockKeysOf(ctx, s.db, schema)
	return err
}

// checkLockKeys checks, once the store is migrated, that its tables are in
// the schema whose lock keys it took.
func (s *Store) checkLockKeys(ctx context.Context) error {
	schema, err := storeSchema(ctx, s.db)
	if err != nil {
		return err
	}
	if schema != s.locks.schema {
		return fmt.Errorf("mapping: the store's tables are in the schema %q, not in %q as when it opened "+
			"(were schemas created or dropped meanwhile?): open it again", schema, s.locks.schema)
	}
	return nil
}
