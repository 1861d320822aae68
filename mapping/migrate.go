package mapping

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrations holds each dialect's schema changes, numbered from 001 in the
// order they apply. A number means the same change in every dialect; an
// applied migration is never edited, a change is a new number.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migration is one numbered schema change.
type migration struct {
	n    int
	name string
	body string
}

// migrationsOf returns the migrations of d in order.
func migrationsOf(d *dialect) ([]migration, error) {
	entries, err := migrations.ReadDir(d.migrations)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("mapping: migration %s has no number", e.Name())
		}
		body, err := migrations.ReadFile(path.Join(d.migrations, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{n: n, name: e.Name(), body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out, nil
}

// migrate applies the migrations the database lacks, each in a transaction
// of its own with the record of its number.
func (s *Store) migrate(ctx context.Context) error {
	version, err := s.d.schemaVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("%w: read schema version: %v", ErrUnavailable, err)
	}
	all, err := migrationsOf(s.d)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.n <= version {
			continue
		}
		err = s.rawTx(ctx, func(tx *sql.Tx) error {
			if err := s.d.lockSchema(ctx, tx); err != nil {
				return err
			}
			// Read again under the lock: another process may have applied it.
			v, err := s.d.schemaVersion(ctx, tx)
			if err != nil || m.n <= v {
				return err
			}
			// No arguments: pgx sends it with the simple protocol, which
			// runs several statements; SQLite's driver runs them in turn.
			if _, err := tx.ExecContext(ctx, m.body); err != nil {
				return err
			}
			return s.d.setSchemaVersion(ctx, tx, m.n)
		})
		if err != nil {
			return fmt.Errorf("mapping: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// rawTx runs f in a transaction of its own, for migrations (which hold
// several statements each and cannot be prepared).
func (s *Store) rawTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
