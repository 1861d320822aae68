package telegramuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"xmppgw/transports"
)

// ownSends is the record of the messages one Telegram account sent (or
// edited) through the gateway, shared by the sessions of every user signed
// in to it: such a message comes back in each session's difference (the
// sender's own, read on a tick or another push, and the others', pushed),
// and is not relayed back as the user's own. Each message's text as the
// gateway last set it is kept too (a hash): an edit to another text is
// the user's own, in a Telegram app, and is relayed. It is kept in memory
// (bounded) and, for ownSendsKept, in the transport's KV: a restart before
// the follower has read past a send does not relay it either.
type ownSends struct {
	t       *Transport
	account int64

	mu     sync.Mutex
	ids    map[ref]string // the text's hash
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
		o = &ownSends{t: t, account: id, ids: map[ref]string{}, flying: map[*flight]bool{}}
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

// textHash is the hash kept of a message's text. Telegram trims a
// message's text.
func textHash(text string) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(text)))
	return hex.EncodeToString(h[:8])
}

// add records r as sent (or edited) through the gateway, with text. A
// failure to store it is logged: it is still known in memory, until a
// restart.
func (o *ownSends) add(ctx context.Context, r ref, text string) {
	h := textHash(text)
	o.mu.Lock()
	if _, ok := o.ids[r]; !ok {
		o.order = append(o.order, r)
		if len(o.order) > maxOwnSends {
			delete(o.ids, o.order[0])
			o.order = o.order[1:]
		}
	}
	o.ids[r] = h
	o.mu.Unlock()
	if err := o.t.p.State.SetUntil(ctx, o.key(r), h, time.Now().Add(ownSendsKept)); err != nil {
		o.t.log.Warn("storing the id of a message sent through the gateway failed", "err", err)
	}
}

// has reports whether r, a message in chat, was sent through the gateway.
func (o *ownSends) has(ctx context.Context, chat transports.Addr, r ref) (bool, error) {
	h, err := o.text(ctx, chat, r)
	return h != "", err
}

// sameText reports whether r, a message in chat, was sent or last edited
// through the gateway with text.
func (o *ownSends) sameText(ctx context.Context, chat transports.Addr, r ref, text string) (bool, error) {
	h, err := o.text(ctx, chat, r)
	return h != "" && h == textHash(text), err
}

// text returns the hash of r's text as the gateway last set it, "" if the
// gateway did not send r. It first waits for the sends to chat under way
// (their ids come with their answers), then asks the record in memory,
// then the store.
func (o *ownSends) text(ctx context.Context, chat transports.Addr, r ref) (string, error) {
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
			return "", ctx.Err()
		}
	}
	o.mu.Lock()
	h, known := o.ids[r]
	o.mu.Unlock()
	if known {
		return h, nil
	}
	if !retry(ctx, func(ctx context.Context) (err error) {
		h, err = o.t.p.State.Get(ctx, o.key(r))
		return err
	}) {
		return "", ctx.Err()
	}
	return h, nil
}
