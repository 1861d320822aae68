package telegramuser

import (
	"context"
	"strconv"
	"sync"
	"time"

	"xmppgw/transports"
)

// ownSends is the record of the messages one Telegram account sent (or
// edited) through the gateway, shared by the sessions of every user signed
// in to it: such a message comes back in each session's difference (the
// sender's own, read on a tick or another push, and the others', pushed),
// and is not relayed back as the user's own. It is kept in memory
// (bounded) and, for ownSendsKept, in the transport's KV: a restart before
// the follower has read past a send does not relay it either.
type ownSends struct {
	t       *Transport
	account int64

	mu     sync.Mutex
	ids    map[ref]bool
	order  []ref
	flying map[*flight]bool // sends under way
}

// maxOwnSends bounds the record in memory.
const maxOwnSends = 10_000

// ownSendsKept is how long a send is kept in the store: longer than the
// gateway is expected to be down with its follower behind the send.
const ownSendsKept = 7 * 24 * time.Hour

// ours is the record of the account's sends.
func (a *account) ours() *ownSends { return a.t.ownSends(a.self.Load()) }

// ownSends returns the record of Telegram account id's sends.
func (t *Transport) ownSends(id int64) *ownSends {
	t.ownMu.Lock()
	defer t.ownMu.Unlock()
	if t.own == nil {
		t.own = map[int64]*ownSends{}
	}
	o := t.own[id]
	if o == nil {
		o = &ownSends{t: t, account: id, ids: map[ref]bool{}, flying: map[*flight]bool{}}
		t.own[id] = o
	}
	return o
}

func (o *ownSends) key(r ref) string {
	return "own:" + strconv.FormatInt(o.account, 10) + ":" + r.String()
}

// flight is a send under way to a chat.
type flight struct {
	chat transports.Addr
	done chan struct{}
}

// begin marks a send to chat under way until end is called: a difference
// read meanwhile may hold its message before its id is known (see has).
func (o *ownSends) begin(chat transports.Addr) (end func()) {
	f := &flight{chat: chat, done: make(chan struct{})}
	o.mu.Lock()
	o.flying[f] = true
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		delete(o.flying, f)
		o.mu.Unlock()
		close(f.done)
	}
}

// add records r as sent through the gateway. A failure to store it is
// logged: it is still known in memory, until a restart.
func (o *ownSends) add(ctx context.Context, r ref) {
	o.mu.Lock()
	if !o.ids[r] {
		o.ids[r] = true
		o.order = append(o.order, r)
		if len(o.order) > maxOwnSends {
			delete(o.ids, o.order[0])
			o.order = o.order[1:]
		}
	}
	o.mu.Unlock()
	if err := o.t.p.State.SetUntil(ctx, o.key(r), "1", time.Now().Add(ownSendsKept)); err != nil {
		o.t.log.Warn("storing the id of a message sent through the gateway failed", "err", err)
	}
}

// has reports whether r, a message in chat, was sent through the gateway.
// It first waits for the sends to chat under way (their ids come with
// their answers), then asks the record in memory, then the store.
func (o *ownSends) has(ctx context.Context, chat transports.Addr, r ref) (bool, error) {
	o.mu.Lock()
	var waits []chan struct{}
	for f := range o.flying {
		if f.chat == chat {
			waits = append(waits, f.done)
		}
	}
	o.mu.Unlock()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	o.mu.Lock()
	known := o.ids[r]
	o.mu.Unlock()
	if known {
		return true, nil
	}
	var v string
	if !retry(ctx, func(ctx context.Context) (err error) {
		v, err = o.t.p.State.Get(ctx, o.key(r))
		return err
	}) {
		return false, ctx.Err()
	}
	return v != "", nil
}
