package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Drivers the store runs on, as Open takes them and Store.Driver reports.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// dialect is what differs between the databases the store runs on. The
// store's queries are written once, in the SQL both accept, with ?
// placeholders; everything else that differs is here.
type dialect struct {
	name string // DriverSQLite or DriverPostgres

	// bind rewrites a query written with ? placeholders for the driver.
	bind func(q string) string
	// validText makes string arguments storable as PostgreSQL text (see
	// validText). A flag, not a func: a call through a func value would
	// move every query's arguments to the heap.
	validText bool
	// returning is true when an insert's new id is read with RETURNING id
	// (database/sql's LastInsertId is unsupported), false when it is read
	// with LastInsertId (cheaper on SQLite).
	returning bool

	// shared is true when other processes may write the same database (a
	// server), so that what one process counts itself cannot be trusted.
	shared bool

	// lockWrites, if set, is the first statement of every write
	// transaction, with the store's write lock key (lockKeys.write) as its
	// argument: it makes the transaction the only one writing the store
	// until it ends, across processes.
	lockWrites string

	// commitTimeout bounds one group commit (0: unbounded), so that writers
	// fail with ErrUnavailable instead of waiting on a dead network.
	commitTimeout time.Duration

	// lockSchema makes the rest of tx the only migration running on the
	// store, across processes; key is the store's migration lock key
	// (lockKeys.migrate).
	lockSchema func(ctx context.Context, tx *sql.Tx, key int64) error
	// schemaVersion returns the number of the last migration applied.
	schemaVersion func(ctx context.Context, q querier) (int, error)
	// setSchemaVersion records migration n as applied, in tx.
	setSchemaVersion func(ctx context.Context, tx *sql.Tx, n int) error
	// userTables counts the database's tables, those of the schema
	// version's record aside.
	userTables string
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var sqliteDialect = &dialect{
	name: DriverSQLite,
	bind: func(q string) string { return q },
	// The committer is the only writer and SQLite serialises transactions:
	// nothing to lock.
	lockSchema: func(context.Context, *sql.Tx, int64) error { return nil },
	schemaVersion: func(ctx context.Context, q querier) (int, error) {
		var v int
		err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		return v, err
	},
	setSchemaVersion: func(ctx context.Context, tx *sql.Tx, n int) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n))
		return err
	},
	userTables: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
}

var postgresDialect = &dialect{
	name:      DriverPostgres,
	bind:      numberPlaceholders,
	validText: true,
	returning: true,
	shared:    true,
	// One write transaction at a time, as SQLite has, whatever the number
	// of processes: ids are then committed in the order they are handed
	// out, so a reader resuming after the last id it saw misses none (and
	// Written's "up to id" deletes only what was read), and each write
	// sees every write committed before it (RedeemLinkCode, LookupSent).
	lockWrites:    "SELECT pg_advisory_xact_lock(?)",
	commitTimeout: 30 * time.Second,
	// Two processes may start at once on a new database: the transaction
	// lock makes the second wait, then find the migrations applied.
	lockSchema: func(ctx context.Context, tx *sql.Tx, key int64) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version BIGINT PRIMARY KEY,
			applied TIMESTAMPTZ NOT NULL DEFAULT now())`)
		return err
	},
	schemaVersion: func(ctx context.Context, q querier) (int, error) {
		var v int
		err := q.QueryRowContext(ctx, `SELECT COALESCE(max(version), 0) FROM schema_version`).Scan(&v)
		if err != nil && isUndefinedTable(err) {
			return 0, nil // a new database
		}
		return v, err
	},
	setSchemaVersion: func(ctx context.Context, tx *sql.Tx, n int) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", n)
		return err
	},
	// The store's tables are made in the current schema (the first of
	// the search_path that exists).
	userTables: `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_version'`,
}

// validText returns args with each string made storable as PostgreSQL
// text, which holds neither NUL nor invalid UTF-8 (SQLite stores both): each
// such byte becomes U+FFFD. It copies args only if a string changes. Keys
// built with NUL separators (resendKey) stay distinct: the parts they join
// come from XML, which has no NUL, and a bare JID has no U+FFFD.
func validText(args []any) []any {
	var out []any // nil until a string changes
	for i, a := range args {
		s, ok := a.(string)
		if !ok || (utf8.ValidString(s) && strings.IndexByte(s, 0) < 0) {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	if out == nil {
		return args
	}
	return out
}

// numberPlaceholders rewrites the ? placeholders of q as $1, $2, ...,
// leaving alone any ? in a quoted string or identifier or in a comment.
func numberPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c) // a doubled quote reads as two strings: same result
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+1])
			i += end
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
