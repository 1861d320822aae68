package muc

import (
	"context"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
)

// turns orders work done off the read loop by key: each taker waits for
// the one before it, in the order taken. A taker's answers that what the
// user writes next must follow (a join's, a leave's) are tracked too, until
// they are written (see answers).
type turns struct {
	// life is the gateway's lifetime (core.Core.Context), which ends when
	// shutdown begins; nil: one that never ends.
	life func() context.Context
	// order is the rooms' locks, which order what a room sends its
	// occupants (order.go); answers are marked written under them.
	order roomOrder
	mu    sync.Mutex
	tail  map[string]chan struct{} // the last taker's, closed when it is done
	// unwritten is, by key, the answers of the last taker that has them
	// (takeAnswered), while they are not written.
	unwritten map[string]*answers
	seq       uint64 // the last answers' (see answers.seq)
}

// occupantKey is the key of turns for full's presences in room.
func occupantKey(room jid.JID, full string) string { return room.String() + "\x00" + full }

// busy reports whether a taker of key is not done yet.
func (t *turns) busy(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.tail[key]
	return ok
}

// turn is one taker's place in the order of its key.
type turn struct {
	t          *turns
	key        string
	prev, mine chan struct{} // closed when the taker before is done; when this one is
	answers    *answers      // set by takeAnswered
}

// take, called in order (on the read loop), returns the taker's turn.
func (t *turns) take(key string) *turn {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev, ok := t.tail[key]
	if !ok {
		prev = make(chan struct{})
		close(prev)
	}
	if t.tail == nil {
		t.tail = map[string]chan struct{}{}
	}
	mine := make(chan struct{})
	t.tail[key] = mine
	return &turn{t: t, key: key, prev: prev, mine: mine}
}

// takeAnswered is take for a taker whose answers what the user writes next
// must follow (a join's self-presence) in room (its bare JID): answering
// returns them until run has written them.
func (t *turns) takeAnswered(key, room string) *turn {
	u := t.take(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	u.answers = &answers{t: t, key: key, room: room, seq: t.seq}
	if t.unwritten == nil {
		t.unwritten = map[string]*answers{}
	}
	t.unwritten[key] = u.answers
	return u
}

// answering returns the answers of key's last taker that has them, if they
// are not written yet; or nil.
func (t *turns) answering(key string) *answers {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unwritten[key]
}

// done lets the next taker go.
func (u *turn) done() {
	u.t.mu.Lock()
	if u.t.tail[u.key] == u.mine {
		delete(u.t.tail, u.key)
	}
	u.t.mu.Unlock()
	close(u.mine)
}

// turnAtShutdown bounds how long, once the gateway is shutting down, a
// step waits for the takers before it: a join ends within storeTimeout.
var turnAtShutdown = 2 * storeTimeout

// errTurnAtShutdown refuses a stanza whose turn did not come in time at
// shutdown.
var errTurnAtShutdown = stanza.NewError("wait", "resource-constraint", "the gateway is shutting down; send it again shortly")

// run is a step (core.Core.Await) that handles s, a stanza read: once the
// takers before u are done, f answers it (an error refuses it), then the
// next taker goes, as soon as f returns: the read loop never waits for
// more than the work itself (a message for the key waits for it). ctx is
// the step's, which shutdown does not end: s is answered all the same, and
// f's work is not cut short (f bounds its own); but if the takers before
// are not done within turnAtShutdown of the shutdown (the end of the
// turns' lifetime), s is refused with wait/resource-constraint. The
// answers of a taker that has them (takeAnswered) are marked written once
// their write to the session has returned (core.AfterWritten), which lets
// what follows them go.
func (u *turn) run(ctx context.Context, w router.Writer, s *router.Stanza, f func(ctx context.Context, w router.Writer) error) {
	defer u.done()
	if u.answers != nil {
		defer core.AfterWritten(w, u.answers.markWritten)
	}
	if !u.wait() {
		w.Encode(router.Refusal(s, errTurnAtShutdown))
		return
	}
	if err := f(context.WithoutCancel(ctx), w); err != nil {
		w.Encode(router.Refusal(s, router.ErrorFor(err)))
	}
}

// wait waits for the takers before u, and reports whether they are done:
// once the lifetime has ended, for at most turnAtShutdown more.
func (u *turn) wait() bool {
	select {
	case <-u.prev: // done already, whether the lifetime has ended or not
		return true
	default:
	}
	var ended <-chan struct{} // never, without a lifetime
	if u.t.life != nil {
		ended = u.t.life().Done()
	}
	select {
	case <-u.prev:
		return true
	case <-ended:
	}
	t := time.NewTimer(turnAtShutdown)
	defer t.Stop()
	select {
	case <-u.prev:
		return true
	case <-t.C:
		return false
	}
}

// answers are a taker's answers (a join's self-presence), which a step
// writes once the user's steps before it have written theirs, and what
// must follow them (the user's message's reflection, the room's traffic to
// a joining client: see order.go): held until they are written. The
// room's turn does not wait for that: only its work.
type answers struct {
	t    *turns
	key  string
	room string // the room's bare JID, whose lock marks them written
	// seq orders answers as taken (on the read loop), which is the order
	// one user's are written in.
	seq uint64

	mu      sync.Mutex
	written bool  // the answers are written
	follow  []any // what waits for them
}

// later is whichever of one user's answers a and b is written last (nil
// if both are): what follows it follows both.
func later(a, b *answers) *answers {
	if a == nil || b != nil && b.seq > a.seq {
		return b
	}
	return a
}

// isWritten reports whether a's answers are written.
func (a *answers) isWritten() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.written
}

// hold holds vs for a's answers, to be written right after them, and
// reports whether it did: false once they are written (the caller writes
// vs itself). Under the room's lock (order.go), it holds whatever
// isWritten said last.
func (a *answers) hold(vs ...any) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.written {
		return false
	}
	a.follow = append(a.follow, vs...)
	return true
}

// markWritten is called once a's answers are written to the session (the
// write returned: core.AfterWritten), with a writer that writes to it at
// once: it writes what followed them, in order, then marks them written,
// under the room's lock, so that what the room sends from then on goes
// the other route (order.go) only once all that is written.
func (a *answers) markWritten(w router.Writer) {
	unlock := a.t.order.lock(a.room)
	defer unlock()
	a.mu.Lock()
	for _, v := range a.follow {
		w.Encode(v)
	}
	a.follow = nil
	a.written = true
	a.mu.Unlock()
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.t.unwritten[a.key] == a {
		delete(a.t.unwritten, a.key)
	}
}
