package muc

import (
	"context"
	"sync"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// How a room's traffic reaches its occupants, in order.
//
// Invariant: what a room sends an occupant (a full JID in it: a message,
// a reflection, another occupant's presence) goes by one route at a time,
// so that the occupant gets it in the room's order, and nothing of the
// room before its own presence in it:
//   - While answers it must follow are not written to the session (its
//     join's: the self-presence, history and subject; for the user's own
//     message, the answers of the sender's last presence to the room), it
//     is held in memory behind them (answers.hold), and the occupant's
//     later traffic waits behind the same answers (occupants.joining). The
//     intake writes the answers, and only once that write has returned
//     marks them written and writes what they held, right after them, in
//     order (answers.markWritten, core.AfterWritten).
//   - Otherwise it goes through the store's queue, which one writer writes
//     in order: in the transaction that keeps it in the room's history if
//     it is kept (the sink's AcceptRoom, KeepOwnRoomMessage). Once that
//     writer has stopped (shutdown: core.Core.Writing), nothing queued is
//     written to the session any more, and what answers a stanza read on
//     it is written by the intake instead.
//
// Which route a stanza takes, and its place in the history, are decided
// under the room's lock (turns.order), which marking answers written takes
// too: the route cannot change between the choice and the hold, and each
// occupant gets the room's messages in the order of its history. A join
// seats its occupant and reads the history under the lock too, so a
// message stored meanwhile is either in that history or held for it.
//
// Nothing under the lock waits for the intake (which takes the lock to
// mark answers written): only for the store, and for a write to the
// session by the intake's goroutine itself.

// roomOrder is the rooms' locks, by room bare JID (see above).
type roomOrder struct {
	mu    sync.Mutex
	locks map[string]*roomLock
}

// roomLock is one room's lock, forgotten once nobody holds or waits for it.
type roomLock struct {
	mu    sync.Mutex
	users int // holding or waiting; under roomOrder.mu
}

// lock takes room's lock, and returns what releases it.
func (o *roomOrder) lock(room string) (unlock func()) {
	o.mu.Lock()
	if o.locks == nil {
		o.locks = map[string]*roomLock{}
	}
	l := o.locks[room]
	if l == nil {
		l = &roomLock{}
		o.locks[room] = l
	}
	l.users++
	o.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		o.mu.Lock()
		defer o.mu.Unlock()
		if l.users--; l.users == 0 {
			delete(o.locks, room)
		}
	}
}

// copies are stanzas of a room for its occupants, routed under the room's
// lock (see above): each is held behind answers it must follow, or kept for
// the store's queue (queued), or, once the queue's writer has stopped,
// written with w, the writer of the step or then step that made them.
type copies struct {
	r      *rooms
	room   string
	w      router.Writer
	queue  bool     // the queue is written (core.Core.Writing)
	queued [][]byte // for the store's queue, in order
}

// copiesOf returns the copies of room's stanzas made by a step writing to
// w; the caller holds room's lock until they are queued.
func (r *rooms) copiesOf(room string, w router.Writer) *copies {
	return &copies{r: r, room: room, w: w, queue: r.c.Writing()}
}

// to routes v to full: held behind prev (the answers of the sender's last
// presence, for the user's own message; nil: none) or full's own
// (occupants.joiningOf), whichever are written last, while they are not
// written; else queued.
func (c *copies) to(full string, prev *answers, v any) {
	if prev != nil && prev.isWritten() {
		prev = nil
	}
	if a := later(prev, c.r.joined.joiningOf(c.room, full)); a != nil {
		c.r.joined.await(c.room, full, a)
		if a.hold(v) {
			return
		}
	}
	if !c.queue {
		c.w.Encode(v)
		return
	}
	c.queued = append(c.queued, stanza.Render(v))
}

// store queues what was kept for the queue, and has the core write it: a
// failure is logged (the occupants see what the history keeps when they
// join again). The caller holds the room's lock.
func (c *copies) store(ctx context.Context) {
	if len(c.queued) == 0 {
		return
	}
	if _, err := c.r.c.Store().ToXMPP().Accept(ctx, c.r.c.Name(), "", c.queued...); err != nil {
		c.r.c.Logger().Warn("cannot queue a room's stanzas for its occupants", "room", c.room, "err", err, "stanzas", len(c.queued))
		return
	}
	c.r.c.Queued()
}
