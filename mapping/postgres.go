package mapping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Connection pool of a PostgreSQL store: the committer holds one connection
// while it commits (it stays the process's only writer), reads and Lead use
// the others.
const (
	postgresMaxConns       = 8
	postgresConnectTimeout = 10 * time.Second // when the dsn sets none
)

// OpenPostgres opens the PostgreSQL store at dsn (a postgres:// URL or
// key=value pairs, as libpq takes them) and brings its schema up to date.
// Several processes may open the same database; see Lead. Errors never
// quote dsn, which may hold a password.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	return openPostgres(ctx, dsn, true)
}

// openPostgres is OpenPostgres, migrating the schema or checking it.
func openPostgres(ctx context.Context, dsn string, migrate bool) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("mapping: the postgres store needs a dsn")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors redact the password; say no more than that.
		return nil, errors.New("mapping: the postgres dsn does not parse (check its syntax)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = postgresConnectTimeout
	}
	socks := &sockets{}
	cfg.DialFunc = socks.dial(cfg.DialFunc)
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(setSession))
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		// pgx's connect errors name host, user and database, not the password.
		return nil, fmt.Errorf("%w: connect to postgres: %v", ErrUnavailable, err)
	}
	s, err := start(ctx, db, postgresDialect, migrate)
	if err != nil {
		return nil, err
	}
	s.socks = socks
	return s, nil
}

// isUndefinedTable reports whether err is PostgreSQL's "relation does not
// exist".
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
