package mapping

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// errCut is the error of a dial after closeNow.
var errCut = errors.New("mapping: store closed at once")

// sockets are the network connections of a PostgreSQL store, so that
// closeNow can cut them all without waiting for a server that may not
// answer.
type sockets struct {
	mu   sync.Mutex
	open map[*socket]struct{}
	cut  bool // no more connections
}

// dial wraps d so that each connection it makes is one of ss.
func (ss *sockets) dial(d pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ss.isCut() {
			return nil, errCut
		}
		c, err := d(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.cut {
			c.Close()
			return nil, errCut
		}
		sc := &socket{Conn: c, ss: ss}
		if ss.open == nil {
			ss.open = map[*socket]struct{}{}
		}
		ss.open[sc] = struct{}{}
		return sc, nil
	}
}

func (ss *sockets) isCut() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.cut
}

// cutAll closes every connection and refuses new ones: whatever waits on
// one fails at once, and nothing more is sent to the server.
func (ss *sockets) cutAll() {
	ss.mu.Lock()
	open := ss.open
	ss.open, ss.cut = nil, true
	ss.mu.Unlock()
	for c := range open {
		c.Conn.Close()
	}
}

// socket is a connection of sockets.
type socket struct {
	net.Conn
	ss *sockets
}

func (c *socket) Close() error {
	c.ss.mu.Lock()
	delete(c.ss.open, c)
	c.ss.mu.Unlock()
	return c.Conn.Close()
}
