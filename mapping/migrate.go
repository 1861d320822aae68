package mapping

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrations holds the schema changes, numbered from 001 in the order they
// apply, one file each for both dialects: a line ending in
// "-- only: sqlite" or "-- only: postgres" is that dialect's alone (the
// mark is cut off), every other line is both's. An applied migration is
// never edited; a change is a new number.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migration is one numbered schema change.
type migration struct {
	n    int
	name string
	body string
}

// migrationsOf returns the migrations of d in order, from dir in fsys.
func migrationsOf(d *dialect, fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("mapping: migration %s has no number", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{n: n, name: e.Name(), body: dialectLines(string(body), d.name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out, nil
}

// lastOf is the number of the last of ms, or 0 if there is none.
func lastOf(ms []migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].n
}

// dialectLines keeps the lines of body for dialect name: those with no
// "-- only:" mark, and those marked for it, without the mark.
func dialectLines(body, name string) string {
	lines := strings.SplitAfter(body, "\n")
	out := lines[:0]
	for _, l := range lines {
		text, nl := strings.CutSuffix(l, "\n")
		if i := strings.LastIndex(text, "-- only: "); i >= 0 {
			if strings.TrimSpace(text[i+len("-- only: "):]) != name {
				continue
			}
			text = strings.TrimRight(text[:i], " \t")
		}
		if nl {
			text += "\n"
		}
		out = append(out, text)
	}
	return strings.Join(out, "")
}

// migrate applies the migrations the database lacks, each in a transaction
// of its own with the record of its number. A schema newer than the last
// migration known (a newer release ran on it) is refused with a
// *SchemaError: this code would work on tables it does not know.
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateFrom(ctx, migrations, "migrations")
}

// migrateFrom is migrate with the migrations in dir of fsys.
func (s *Store) migrateFrom(ctx context.Context, fsys fs.FS, dir string) error {
	version, err := s.d.schemaVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("%w: read schema version: %w", ErrUnavailable, err)
	}
	all, err := migrationsOf(s.d, fsys, dir)
	if err != nil {
		return err
	}
	if latest := lastOf(all); version > latest {
		return &SchemaError{Have: version, Want: latest}
	}
	for _, m := range all {
		if m.n <= version {
			continue
		}
		err = s.rawTx(ctx, func(tx *sql.Tx) error {
			if err := s.d.lockSchema(ctx, tx, s.locks.migrate); err != nil {
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
