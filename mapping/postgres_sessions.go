package mapping

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// txIdle is how long the server keeps a session of the store that sits
// idle inside a transaction before ending it, rolling the transaction back
// (idle_in_transaction_session_timeout). A process that vanishes or is
// paused in the middle of a write transaction would otherwise hold the
// write lock (dialect.lockWrites) until TCP keepalive ends its session, by
// default for hours, and the instance that takes over could write nothing.
// As leadIdle: by the time a new leader acts (LeadSettle after taking the
// lead, which was free leadIdle after the old leader's last check), the
// old leader's write transaction is over. The store's transactions send
// their statements back to back (a migration is one statement), so theirs
// are never idle for long.
const txIdle = leadIdle

// setSession sets the store's settings on each new session of the pool.
func setSession(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, fmt.Sprintf("SET idle_in_transaction_session_timeout = %d", txIdle.Milliseconds()))
	return err
}
