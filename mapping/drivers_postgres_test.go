//go:build integration

package mapping

import (
	"os"
	"testing"

	"xmppgw/internal/pgtest"
)

// The PostgreSQL tests share one server, started by the first of them and
// stopped after the last (see internal/pgtest).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func init() { newPostgres = func(t *testing.T) string { return pgtest.Database(t) } }
