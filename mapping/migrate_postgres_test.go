//go:build integration

package mapping

import (
	"context"
	"sync"
	"testing"
	"xmppgw/internal/pgtest"
)

// Processes starting at once on a new PostgreSQL database migrate it once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	dsn := pgtest.Database(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	var count, max int
	if err := stores[0].db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&count, &max); err != nil {
		t.Fatal(err)
	}
	all, _ := migrationsOf(postgresDialect, migrations, "migrations")
	if count != len(all) || max != len(all) {
		t.Errorf("schema_version has %d rows up to %d; want %d", count, max, len(all))
	}
}
