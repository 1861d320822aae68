//go:build integration

package main

import (
	"context"
	"fmt"
	"testing"

	"xmppgw/internal/pgtest"
	"xmppgw/mapping"
)

// testDomainMoveInterrupted on PostgreSQL.
func TestDomainMoveInterruptedPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	testDomainMoveInterrupted(t, pgConfig(t, dsn, ""),
		func(ctx context.Context) (*mapping.Store, error) {
			return mapping.Open(ctx, mapping.DriverPostgres, "", dsn)
		},
		func(t *testing.T, above int64) func() {
			return execFault(t, "pgx", dsn,
				fmt.Sprintf(`CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END $$;
CREATE TRIGGER fault BEFORE UPDATE ON to_xmpp FOR EACH ROW WHEN (OLD.id > %d) EXECUTE FUNCTION fault()`, above),
				`DROP TRIGGER fault ON to_xmpp; DROP FUNCTION fault()`)
		})
}
