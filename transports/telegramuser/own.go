package telegramuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tgerr"

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
//
// A send's id is known only from its answer, which may come after the
// follower has read the message, or never (a timeout, a cut connection,
// a restart). So each send first leaves a pending marker: its chat and
// text (hash), with its random_id, in memory and in the KV. An outgoing
// message not in the record that matches a marker is the gateway's: it
// takes the marker and is recorded. The follower never waits for a send.
type ownSends struct {
	t       *Transport
	account int64

	mu    sync.Mutex
	ids   map[ref]string // the text's hash
	order []ref

	// pmu serialises the pending markers' changes, each written through
	// to the KV (the truth; pending caches it).
	pmu       sync.Mutex
	pending   map[string][]string // by pendKey: the random_ids of sends
	pendOrder []string
}

// maxOwnSends bounds the record in memory.
const maxOwnSends = 10_000

// maxPending bounds the pending markers cached in memory (the KV keeps
// those forgotten here), and maxPendingPerKey the sends of one text to one
// chat pending at once.
const (
	maxPending       = 1_000
	maxPendingPerKey = 16
)

// ownSendsKept is how long a send (or its pending marker) is kept in the
// store: longer than the gateway is expected to be down with its follower
// behind the send.
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
		o = &ownSends{t: t, account: id, ids: map[ref]string{}, pending: map[string][]string{}}
		t.own[id] = o
	}
	return o
}

func (o *ownSends) key(r ref) string {
	return "own:" + strconv.FormatInt(o.account, 10) + ":" + r.String()
}

// textHash is the hash kept of a message's text. Telegram trims a
// message's text.
func textHash(text string) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(text)))
	return hex.EncodeToString(h[:8])
}

// add records r as sent (or edited) through the gateway, with text: in
// memory, then in the store, whose error it returns.
func (o *ownSends) add(ctx context.Context, r ref, text string) error {
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
	return o.t.p.State.SetUntil(ctx, o.key(r), h, time.Now().Add(ownSendsKept))
}

// addLogged is add for a send's answer: a failure to store is logged (the
// record is still in memory, until a restart).
func (o *ownSends) addLogged(ctx context.Context, r ref, text string) {
	if err := o.add(ctx, r, text); err != nil {
		o.t.log.Warn("storing the id of a message sent through the gateway failed", "err", err)
	}
}

// has reports whether r was sent through the gateway.
func (o *ownSends) has(ctx context.Context, r ref) (bool, error) {
	h, err := o.text(ctx, r)
	return h != "", err
}

// text returns the hash of r's text as the gateway last set it, "" if the
// gateway did not send r: from the record in memory, else the store.
func (o *ownSends) text(ctx context.Context, r ref) (string, error) {
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

// mine reports whether r, an outgoing message (or edit, if edit) in chat
// with text, is the gateway's: recorded (an edit: with this text), or
// matching a pending send (an edit: a pending edit of r), whose marker it
// then takes, recording r with text. recorded is whether r was recorded.
func (o *ownSends) mine(ctx context.Context, chat transports.Addr, r ref, text string, edit bool) (own, recorded bool, err error) {
	h, err := o.text(ctx, r)
	if err != nil {
		return false, false, err
	}
	recorded = h != ""
	if recorded && (!edit || h == textHash(text)) {
		return true, true, nil
	}
	record := func(ctx context.Context) error { return o.add(ctx, r, text) }
	if edit {
		if own, err = o.take(ctx, editKey(r, text), record); own || err != nil {
			return own, recorded, err
		}
	}
	if recorded {
		return false, true, nil
	}
	own, err = o.take(ctx, sendKey(chat, text), record)
	return own, false, err
}

// retext records text as r's, if r is recorded: a user's edit of it in a
// Telegram app, relayed.
func (o *ownSends) retext(ctx context.Context, r ref, text string) error {
	h, err := o.text(ctx, r)
	if err != nil || h == "" || h == textHash(text) {
		return err
	}
	if !retry(ctx, func(ctx context.Context) error { return o.add(ctx, r, text) }) {
		return ctx.Err()
	}
	return nil
}

// editKey is the pending marker of an edit of r to text.
func editKey(r ref, text string) string {
	return "e:" + r.String() + ":" + textHash(text)
}

// sendKey is the pending marker of a send of text to chat.
func sendKey(chat transports.Addr, text string) string {
	if n, err := strconv.ParseInt(string(chat), 10, 64); err == nil {
		chat = transports.Addr(strconv.FormatInt(n, 10)) // as addrOf writes it
	}
	return "s:" + string(chat) + ":" + textHash(text)
}

func (o *ownSends) pendStoreKey(key string) string {
	return "pend:" + strconv.FormatInt(o.account, 10) + ":" + key
}

// pend records a pending marker, key with token (a send's random_id; 0
// for an edit), before its request; an error means it is not recorded.
func (o *ownSends) pend(ctx context.Context, key string, token int64) error {
	o.pmu.Lock()
	defer o.pmu.Unlock()
	toks, err := o.loadPending(ctx, key)
	if err != nil {
		return err
	}
	tok := strconv.FormatInt(token, 10)
	if slices.Contains(toks, tok) {
		return nil // the same job again
	}
	toks = append(slices.Clip(toks), tok)
	if len(toks) > maxPendingPerKey {
		toks = toks[1:]
	}
	return o.savePending(ctx, key, toks)
}

// unpend drops key's marker token: its send (or edit) was answered (and
// recorded), or refused. A failure to store is logged.
func (o *ownSends) unpend(ctx context.Context, key string, token int64) {
	o.pmu.Lock()
	defer o.pmu.Unlock()
	toks, err := o.loadPending(ctx, key)
	if err == nil {
		tok := strconv.FormatInt(token, 10)
		if i := slices.Index(toks, tok); i >= 0 {
			err = o.savePending(ctx, key, slices.Delete(slices.Clone(toks), i, i+1))
		}
	}
	if err != nil {
		o.t.log.Warn("dropping the pending marker of a send failed", "err", err)
	}
}

// take reports whether key has a pending marker; if so, it records the
// message with record (retried until stored), then drops the oldest token.
func (o *ownSends) take(ctx context.Context, key string, record func(context.Context) error) (bool, error) {
	o.pmu.Lock()
	defer o.pmu.Unlock()
	var toks []string
	if !retry(ctx, func(ctx context.Context) (err error) {
		toks, err = o.loadPending(ctx, key)
		return err
	}) {
		return false, ctx.Err()
	}
	if len(toks) == 0 {
		return false, nil
	}
	if !retry(ctx, record) || !retry(ctx, func(ctx context.Context) error { return o.savePending(ctx, key, toks[1:]) }) {
		return false, ctx.Err()
	}
	return true, nil
}

// loadPending returns key's tokens, cached or from the store. The caller
// holds o.pmu.
func (o *ownSends) loadPending(ctx context.Context, key string) ([]string, error) {
	if toks, ok := o.pending[key]; ok {
		return toks, nil
	}
	v, err := o.t.p.State.Get(ctx, o.pendStoreKey(key))
	if err != nil {
		return nil, err
	}
	toks := strings.Fields(v)
	o.cachePending(key, toks)
	return toks, nil
}

// savePending stores key's tokens, then caches them. The caller holds
// o.pmu.
func (o *ownSends) savePending(ctx context.Context, key string, toks []string) error {
	if err := o.t.p.State.SetUntil(ctx, o.pendStoreKey(key), strings.Join(toks, " "), time.Now().Add(ownSendsKept)); err != nil {
		delete(o.pending, key) // the store is the truth: read it again
		return err
	}
	o.cachePending(key, toks)
	return nil
}

// cachePending keeps key's tokens in memory, forgetting the oldest keys
// past maxPending. The caller holds o.pmu.
func (o *ownSends) cachePending(key string, toks []string) {
	if _, ok := o.pending[key]; !ok {
		o.pendOrder = append(o.pendOrder, key)
		for len(o.pendOrder) > maxPending {
			delete(o.pending, o.pendOrder[0])
			o.pendOrder = o.pendOrder[1:]
		}
	}
	o.pending[key] = toks
}

// refused reports whether Telegram answered a request with an error that
// means it did not do it (not a 5xx, a timeout or a lost answer).
func refused(err error) bool {
	rpc, ok := tgerr.As(err)
	return ok && rpc.Code >= 400 && rpc.Code < 500
}
