//go:build integration

package main

import (
	"bytes"
	"database/sql"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestFailoverAfterSchemaNamedLikeRole: with PostgreSQL's default
// search_path ("$user", public), someone creates a schema named like the
// database role while a is active and b its standby. It becomes their
// sessions' current_schema(), their tables stay public's: b's next try for
// the lead fails as before (no second active instance), a new instance
// with the same DSN refuses to start, saying to set search_path, and when
// a dies b takes over and sends what a had queued, once each, in order.
func TestFailoverAfterSchemaNamedLikeRole(t *testing.T) {
	e := startPair(t)
	const n = 5
	e.queue(t, 0, n)
	db, err := sql.Open("pgx", e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var role string
	var created time.Time
	if err := db.QueryRowContext(e.ctx, `SELECT current_user, clock_timestamp()`).Scan(&role, &created); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(e.ctx, `CREATE SCHEMA `+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Logf("created the schema %s", role)

	// b's lead session's tries since the schema exists, and the locks
	// it holds: none, as long as a is active.
	const bTried = `SELECT count(*), count(l.pid) FROM pg_stat_activity a
		LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
		WHERE a.datname = current_database() AND a.query_start > $1
			AND (a.query LIKE 'SELECT pg_try_advisory_lock%' OR a.query LIKE 'SET idle_session_timeout%')`
	waitFor(t, e.ctx, "b to try for the lead after the schema was created", func() bool {
		var tries, held int
		if err := db.QueryRowContext(e.ctx, bTried, created).Scan(&tries, &held); err != nil {
			t.Fatal(err)
		}
		if held != 0 {
			t.Fatalf("b took a lead of its own beside a, active (split brain)")
		}
		return tries > 0
	})
	if code, body := get(e.b.url + "/readyz"); code == http.StatusOK || !strings.Contains(body, "standby") {
		t.Errorf("b's readyz after the schema was created: %d %s; want 503 standby", code, body)
	}

	var out, errb bytes.Buffer
	if code := run(e.ctx, []string{"run", "-config", pgConfig(t, e.dsn, "")}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "search_path=public") {
		t.Errorf("a third instance on the same DSN: exit %d, want %d, telling to set search_path: %s", code, exitFailure, errb.String())
	}

	t.Logf("killing a with SIGKILL")
	e.a.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-e.a.Exited()
	e.takeover(t, killed)
	e.delivered(t, n)
}
