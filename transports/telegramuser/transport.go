package telegramuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"

	"xmppgw/transports"
)

func init() {
	transports.RegisterNew("telegram-user", transports.Identity{
		Gateway: "telegram",
		Name:    "Telegram",
		Prompt:  "Telegram user id",
		Desc:    "The numeric id of a Telegram user or group you have a chat with.",
	}, New)
}

// Transport is a "telegram-user" transport: one Telegram session per
// signed-in XMPP user.
type Transport struct {
	p      transports.Params
	s      *Settings
	log    *slog.Logger
	vault  *vault
	signer *transports.MediaSigner // media URLs (media.go)
	fetch  *http.Client            // users' attachments, under the fetch policy
	policy *transports.FetchPolicy
	whole  chan struct{} // a slot per attachment held whole in memory (wholeUploads)

	mu       sync.Mutex
	accounts map[string]*account // by bare JID: signed in, or signing in
	stopping bool                // Run is stopping: no session starts
	listMu   sync.Mutex          // serialises writes of the users list

	ownMu sync.Mutex
	own   map[int64]*ownSends // by Telegram user id: what each account sent through the gateway

	signedIn atomic.Pointer[map[string]transports.Addr] // bare JID -> Telegram user id
	run      atomic.Pointer[runState]                   // set once Run starts
}

// runState is what Run hands to the accounts.
type runState struct {
	ctx  context.Context
	sink transports.Sink
	wg   *sync.WaitGroup
}

var (
	_ transports.Transport = (*Transport)(nil)
	_ transports.Login     = (*Transport)(nil)
	_ transports.Typer     = (*Transport)(nil)
)

// New builds a transport from validated settings.
func New(p transports.Params, s *Settings) (*Transport, error) {
	if p.State == nil {
		return nil, fmt.Errorf("%s: no state store", p.Name)
	}
	v, err := newVault(p.State, s.SessionKey)
	if err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	policy := p.Fetch
	if policy == nil {
		policy = transports.DefaultFetchPolicy()
	}
	t := &Transport{p: p, s: s, log: log.With("transport", p.Name), vault: v, accounts: map[string]*account{},
		signer: newSigner(p, s.SessionKey), policy: policy, fetch: &http.Client{Transport: policy.Transport(), Timeout: uploadTimeout},
		whole: make(chan struct{}, wholeUploads)}
	t.signedIn.Store(&map[string]transports.Addr{})
	return t, nil
}

// Name implements transports.Transport.
func (t *Transport) Name() string { return t.p.Name }

var peerRE = regexp.MustCompile(`^-?[1-9][0-9]{0,18}$`)

// ParseAddr implements transports.Transport: a Telegram peer id, as the
// Bot API writes it (a user "123", a basic group "-123", a channel or
// supergroup "-100123").
func (t *Transport) ParseAddr(s string) (transports.Addr, error) {
	if !peerRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a Telegram user, group or channel id (digits; a group's with a leading -, a channel's with -100)", s)
	}
	if _, err := parsePeer(transports.Addr(s)); err != nil {
		return "", err
	}
	return transports.Addr(s), nil
}

// Accounts implements transports.Transport: the signed-in users, each with
// their Telegram user id, those whose stored session is still resuming
// included (their messages wait for it), but not those the sink does not
// allow (transports.Access), whose sessions are not resumed. It is a
// snapshot: it changes as users sign in and out (transports.Login).
func (t *Transport) Accounts() map[string]transports.Addr { return *t.signedIn.Load() }

// Run implements transports.Transport: it resumes the stored sessions and
// runs until ctx ends, then waits for every session to stop.
func (t *Transport) Run(ctx context.Context, sink transports.Sink) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		// No goroutine starts after this (start and spawn check under
		// t.mu): wg.Wait waits for every one.
		t.mu.Lock()
		t.stopping = true
		for _, a := range t.accounts {
			a.stop()
		}
		t.mu.Unlock()
	}()
	t.mu.Lock()
	t.run.Store(&runState{ctx: ctx, sink: sink, wg: &wg})
	t.mu.Unlock()
	// A user the operator took out of access.allow keeps the stored
	// session, not resumed: nothing of theirs is relayed.
	allowed := func(string) bool { return true }
	if a, ok := sink.(transports.Access); ok {
		allowed = a.Allowed
	}
	users, err := t.loadUsers(ctx, allowed)
	for err != nil {
		t.log.Error("reading the signed-in users failed; retrying", "err", err)
		if !sleep(ctx, retryPause) {
			return nil
		}
		users, err = t.loadUsers(ctx, allowed)
	}
	for _, u := range slices.Sorted(maps.Keys(users)) {
		if !allowed(u) {
			t.log.Warn("a stored Telegram session is not resumed: the user is not in access.allow", "user", u,
				"clean_up", "the user may log out from XMPP (remove their registration with "+t.p.Domain+
					", or run the command \"Log out of Telegram\"), which deletes the session; or add them to access.allow again")
			continue
		}
		t.start(u, true)
	}
	<-ctx.Done()
	return nil
}

// errNotRunning is a session started before Run, or while it stops.
var errNotRunning = errors.New("the gateway is starting or stopping; try again in a moment")

// start runs user's session: a stored one (resume), or a new one to sign
// in with. It replaces any account user had.
func (t *Transport) start(user string, resume bool) (*account, error) {
	a := newAccount(t, user, resume)
	t.mu.Lock()
	defer t.mu.Unlock()
	rs, ok := t.runningLocked()
	if !ok {
		return nil, errNotRunning
	}
	if old := t.accounts[user]; old != nil {
		old.stop()
	}
	t.accounts[user] = a
	t.goLocked(rs, func(ctx context.Context) {
		defer close(a.done)
		a.run(ctx)
		t.mu.Lock()
		if t.accounts[user] == a {
			delete(t.accounts, user)
		}
		t.mu.Unlock()
	})
	return a, nil
}

// spawn runs f on a goroutine Run waits for, with Run's context; not
// before Run, nor once it stops.
func (t *Transport) spawn(f func(ctx context.Context)) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs, ok := t.runningLocked()
	if ok {
		t.goLocked(rs, f)
	}
	return ok
}

// runningLocked returns Run's state if it runs and is not stopping. The
// caller holds t.mu.
func (t *Transport) runningLocked() (*runState, bool) {
	rs := t.run.Load()
	if rs == nil || t.stopping || rs.ctx.Err() != nil {
		return nil, false
	}
	return rs, true
}

// goLocked is spawn's start of f; the caller holds t.mu, so that Run's
// stopping (under t.mu) comes before or after wg.Add, never between.
func (t *Transport) goLocked(rs *runState, f func(ctx context.Context)) {
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		f(rs.ctx)
	}()
}

// account returns user's running account, or nil.
func (t *Transport) account(user string) *account {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accounts[user]
}

// byID returns a signed-in account whose Telegram user id is id and whose
// session is up, or nil.
func (t *Transport) byID(id transports.Addr) *account {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.accounts {
		if a.up.Load() && a.addr() == id {
			return a
		}
	}
	return nil
}

// setSignedIn records user as signed in as id ("" when signed out), in
// memory and in the stored users list.
func (t *Transport) setSignedIn(ctx context.Context, user string, id transports.Addr) error {
	t.listMu.Lock()
	defer t.listMu.Unlock()
	users, err := t.users(ctx)
	if err != nil {
		return err
	}
	if id != "" {
		users[user] = id
	} else {
		delete(users, user)
	}
	b, _ := json.Marshal(users)
	if err := t.p.State.Set(ctx, keyUsers, string(b)); err != nil {
		return err
	}
	m := maps.Clone(*t.signedIn.Load())
	if id != "" {
		m[user] = id
	} else {
		delete(m, user)
	}
	t.signedIn.Store(&m)
	return nil
}

// dropSignedIn takes user for logged out in memory only: the stored users
// list keeps them.
func (t *Transport) dropSignedIn(user string) {
	t.listMu.Lock()
	defer t.listMu.Unlock()
	m := maps.Clone(*t.signedIn.Load())
	delete(m, user)
	t.signedIn.Store(&m)
}

// loadUsers reads the stored users list, and takes those whose Telegram
// user id it holds, and that allowed accepts, for signed in.
func (t *Transport) loadUsers(ctx context.Context, allowed func(user string) bool) (map[string]transports.Addr, error) {
	t.listMu.Lock()
	defer t.listMu.Unlock()
	users, err := t.users(ctx)
	if err != nil {
		return nil, err
	}
	m := maps.Clone(*t.signedIn.Load())
	for u, id := range users {
		if id != "" && allowed(u) {
			m[u] = id
		}
	}
	t.signedIn.Store(&m)
	return users, nil
}

// users returns the stored users list: each signed-in user with their
// Telegram user id ("" in a list written before the ids were kept: a plain
// list of users, whose ids are known once their sessions resume).
func (t *Transport) users(ctx context.Context) (map[string]transports.Addr, error) {
	s, err := t.p.State.Get(ctx, keyUsers)
	if err != nil {
		return nil, err
	}
	users := map[string]transports.Addr{}
	if s == "" {
		return users, nil
	}
	if json.Unmarshal([]byte(s), &users) == nil {
		return users, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("the stored users list is unreadable: %w", err)
	}
	for _, u := range list {
		users[u] = ""
	}
	return users, nil
}

// Keys in the transport's KV.
const keyUsers = "users"

func keySession(user string) string  { return "session:" + user }
func keyState(user string) string    { return "state:" + user }
func keyContacts(user string) string { return "contacts:" + user }
func keyChannels(user string) string { return "channels:" + user }
func keyMissed(user string) string   { return "missed:" + user }
