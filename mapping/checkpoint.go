package mapping

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// SQLite's WAL is checkpointed here rather than inside a commit. SQLite's
// own automatic checkpoint (wal_autocheckpoint, off in OpenSQLite) copies
// the WAL's pages to the database file and syncs both inside the commit
// that crosses 1,000 pages, so that commit, and every write waiting behind
// it, waits for a sync: it was a tenth of the gateway's CPU under load and
// its slowest commits. Instead:
//   - the checkpointer, a goroutine of its own on its own connection, runs
//     passive checkpoints (which never block the writer) at most every
//     checkpointEvery while writes come in;
//   - once the WAL is longer than checkpointRestart pages, it asks the
//     committer to run one more between two groups: with no write under way
//     that one copies what was written meanwhile (a few pages) and catches
//     up, so the next write starts the WAL over. A passive checkpoint alone
//     never catches up under steady writes, and the WAL would grow.
const checkpointEvery = 250 * time.Millisecond

// checkpointRestart is the WAL length, in pages (16 MiB), past which the
// committer finishes a checkpoint; a variable for tests.
var checkpointRestart = 4096

// checkpointer is SQLite's; it runs until the store is closed.
type checkpointer struct {
	wake   chan struct{} // a commit happened (buffered, 1)
	finish atomic.Bool   // the committer should run a checkpoint between groups
	done   chan struct{} // closed when the checkpointer returns
}

// committed tells the checkpointer that a group was committed; called by the
// committer, it never waits.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run checkpoints s's WAL until s is closed.
func (c *checkpointer) run(s *Store) {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-s.closed:
			return
		}
		frames, err := s.checkpoint(context.Background())
		if err != nil {
			slog.Warn("store: checkpoint failed", "err", err)
		} else if frames >= checkpointRestart {
			c.finish.Store(true)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-s.closed:
			return
		}
	}
}

// finishCheckpoint runs, in the committer between two groups, the
// checkpoint the checkpointer asked for, if it did.
func (s *Store) finishCheckpoint() {
	if s.ckpt == nil || !s.ckpt.finish.Swap(false) {
		return
	}
	if _, err := s.checkpoint(context.Background()); err != nil {
		slog.Warn("store: checkpoint failed", "err", err)
	}
}

// checkpoint runs a passive checkpoint and returns the WAL's length in
// pages.
func (s *Store) checkpoint(ctx context.Context) (frames int, err error) {
	var busy, copied int
	err = s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}
