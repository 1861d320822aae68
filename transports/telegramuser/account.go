package telegramuser

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"go.uber.org/zap"

	"xmppgw/transports"
)

// account is one XMPP user's Telegram session: a client that signs in (or
// resumes a stored session), then follows the account's updates.
type account struct {
	t      *Transport
	user   string      // bare JID
	resume atomic.Bool // a stored session: no sign-in questions are asked
	gaveUp atomic.Bool // the session ended for good (revoked, sealed): logged out
	// leaving is set while the user's logout ends the session at Telegram;
	// left, when Telegram ended it meanwhile (its answer may not come).
	leaveMu       sync.Mutex
	leaving, left bool
	up            atomic.Bool            // signed in, on a connected client
	cl            atomic.Pointer[client] // the current client (run makes a new one after a failure)

	answers   chan answer           // sign-in answers (login.go)
	poke      chan struct{}         // an update was pushed: read the difference
	live      chan pushed           // pushed updates that no difference holds (reactions)
	self      atomic.Int64          // the Telegram user id once signed in
	sendPause atomic.Int64          // Unix nanoseconds: sends wait until then (Send)
	mediaLoad transports.MediaSlots // media GETs being served (media.go)
	peers     peers
	where     chatOf          // the chat of recent messages
	marks     channelMarks    // channels to read (channels.go)
	reactions reactionSets    // the reaction sets passed on last (follow.go)
	final     chan loginReply // the last sign-in answer, replied to once signed in

	// missed is when the session last read before a resume (Unix time):
	// the posts since then in channels without a stored state are still
	// to be relayed (readMissed), not before missedAt. Used by the
	// session's goroutine only.
	missed   int
	missedAt time.Time

	stopOnce sync.Once
	cancel   chan struct{}          // closed by stop
	done     chan struct{}          // closed once the account's goroutine has ended (start)
	failed   atomic.Pointer[string] // why a sign-in ended before it was done
}

func newAccount(t *Transport, user string, resume bool) *account {
	a := &account{t: t, user: user, answers: make(chan answer), poke: make(chan struct{}, 1),
		live: make(chan pushed, liveQueue), cancel: make(chan struct{}), done: make(chan struct{})}
	a.resume.Store(resume)
	a.cl.Store(a.newClient())
	return a
}

// newClient is a gotd client for the account, with a gate of its own.
func (a *account) newClient() *client {
	g := newGate()
	st := sessionStorage{v: a.t.vault, key: keySession(a.user), fresh: !a.resume.Load()}
	o := a.t.options(st, g, telegram.UpdateHandlerFunc(a.pushed))
	return &client{Client: telegram.NewClient(a.t.s.APIID, a.t.s.APIHash, o), gate: g}
}

// options are a gotd client's: the session storage, the gate (if any),
// the flood-wait middleware, and a test server if the config names one.
func (t *Transport) options(st session.Storage, g *gate, h telegram.UpdateHandler) telegram.Options {
	mws := []telegram.Middleware{floodWait{log: t.log}}
	if g != nil {
		mws = append([]telegram.Middleware{g}, mws...)
	}
	o := telegram.Options{
		SessionStorage: st,
		Middlewares:    mws,
		UpdateHandler:  h,
		Logger:         zap.NewNop(),
		RetryInterval:  time.Second,
		MaxRetries:     5,
		Device:         telegram.DeviceConfig{DeviceModel: "xmppgw", SystemVersion: "XMPP gateway", AppVersion: "1"},
	}
	if s := t.s.Server; s != nil {
		o.DC = s.DC
		o.DCList = dcs.List{Options: []tg.DCOption{{ID: s.DC, IPAddress: s.host, Port: s.port, Static: true}}}
		o.PublicKeys = []telegram.PublicKey{{RSA: s.key}}
	}
	return o
}

// addr is the account's Telegram user id, or "" before sign-in.
func (a *account) addr() transports.Addr {
	if id := a.self.Load(); id != 0 {
		return transports.Addr(strconv.FormatInt(id, 10))
	}
	return ""
}

// stop ends the account's session (not at Telegram: see Logout).
func (a *account) stop() { a.stopOnce.Do(func() { close(a.cancel) }) }

// errRevoked is a stored session that Telegram no longer accepts.
var errRevoked = errors.New("Telegram ended the session")

// retryPause is the wait before a failed session is started again.
const retryPause = 5 * time.Second

// run runs the session until ctx ends or stop is called. A resumed
// session that fails is started again; one that Telegram revoked is
// forgotten, and the user told; one that does not open with this
// session_key is not resumed, and the user told. The account is stopped
// when run returns.
func (a *account) run(ctx context.Context) {
	defer a.stop()
	ctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	defer func() { cancel(); <-watched }()
	go func() {
		defer close(watched)
		select {
		case <-a.cancel:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		err := a.runClient(ctx, a.cl.Load())
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errRevoked) || tgerr.Is(err, "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED", "SESSION_EXPIRED") {
			if a.leftForLogout() {
				return // the user's own logout: Logout forgets it and answers
			}
			a.revoked(ctx)
			return
		}
		if a.resume.Load() && errors.Is(err, errSealed) {
			a.sealed(ctx)
			return
		}
		if !a.resume.Load() && a.self.Load() == 0 {
			a.t.log.Info("a sign-in ended", "user", a.user, "err", err)
			if err != nil {
				why := err.Error()
				a.failed.Store(&why)
			}
			return
		}
		a.t.log.Warn("Telegram session failed; restarting", "user", a.user, "err", err)
		a.resume.Store(true)
		if !sleep(ctx, retryPause) {
			return
		}
		// A new client: gotd's cannot be run twice.
		a.cl.Store(a.newClient())
	}
}

// runClient runs c until ctx ends or the session fails. The client closes
// only after the session's work has returned and the gate has stopped
// every other call, never under a call in flight.
func (a *account) runClient(ctx context.Context, c *client) error {
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var started atomic.Bool
	// Still connecting when ctx ends: nothing runs on the client yet.
	unwatch := context.AfterFunc(ctx, func() {
		if !started.Load() {
			stopRun()
		}
	})
	defer unwatch()
	return c.Run(runCtx, func(cctx context.Context) error {
		started.Store(true)
		wctx, cancel := context.WithCancel(cctx)
		stop := context.AfterFunc(ctx, cancel)
		err := a.session(wctx)
		a.up.Store(false)
		stop()
		cancel()
		c.gate.close()
		return err
	})
}

// session is the client's work once connected: sign in if needed, then
// follow the updates.
func (a *account) session(ctx context.Context) error {
	st, err := a.auth().Status(ctx)
	if err != nil {
		return err
	}
	self := st.User
	if !st.Authorized {
		if a.resume.Load() {
			return errRevoked
		}
		if self, err = a.login(ctx); err != nil {
			return err
		}
	}
	if err := a.signedIn(ctx, self); err != nil {
		return err
	}
	return a.follow(ctx)
}

// signedIn records the account as signed in as self, and gives the core
// the account's contacts and chats.
func (a *account) signedIn(ctx context.Context, self *tg.User) error {
	if !a.resume.Load() {
		// A new session: what an earlier one (one that did not open) left
		// is not its.
		for _, k := range []string{keyState(a.user), keyContacts(a.user), keyChannels(a.user), keyMissed(a.user)} {
			if err := a.t.p.State.Set(ctx, k, ""); err != nil {
				return err
			}
		}
	}
	a.self.Store(self.ID)
	a.peers.addUser(self)
	// Everything after the user is told they are in is relayed. A resumed
	// session's missed channel posts are read once it follows (readMissed).
	if _, err := a.startState(ctx); err != nil {
		return err
	}
	if err := a.startChannels(ctx); err != nil {
		return err
	}
	a.up.Store(true)
	if err := a.t.setSignedIn(ctx, a.user, a.addr()); err != nil {
		return err
	}
	a.loginDone(self)
	if err := a.syncContacts(ctx); err != nil {
		a.t.log.Warn("reading the account's contacts failed", "user", a.user, "err", err)
	}
	return nil
}

// leftForLogout reports whether a logout is under way, and if so notes that
// Telegram ended the session for it.
func (a *account) leftForLogout() bool {
	a.leaveMu.Lock()
	defer a.leaveMu.Unlock()
	a.left = a.left || a.leaving
	return a.leaving
}

// setLeaving marks a logout under way (on) or over, and reports whether
// Telegram ended the session for it meanwhile.
func (a *account) setLeaving(on bool) (left bool) {
	a.leaveMu.Lock()
	defer a.leaveMu.Unlock()
	left = a.left
	a.leaving, a.left = on, false
	return left
}

// revoked forgets a session Telegram ended and tells the user.
func (a *account) revoked(ctx context.Context) {
	a.t.log.Warn("Telegram ended a session", "user", a.user)
	a.gaveUp.Store(true) // before the user is told: a new sign-in may start
	if err := a.forget(ctx); err != nil {
		a.t.log.Error("forgetting an ended session failed", "user", a.user, "err", err)
	}
	a.tell(ctx, "Telegram ended your session (it was logged out from another device, or revoked). "+
		"Run the command \"Log in to Telegram\" on "+a.t.p.Domain+" to log in again.")
}

// sealed gives up a stored session that does not open with this
// session_key: the user counts as logged out and is told to log in again.
// It stays in the store (the right key opens it again) until the user logs
// in again or out.
func (a *account) sealed(ctx context.Context) {
	a.t.log.Error("a stored Telegram session does not open with this session_key; the user must log in again", "user", a.user)
	a.gaveUp.Store(true) // before the user is told: a new sign-in may start
	a.t.dropSignedIn(a.user)
	a.tell(ctx, "Your Telegram session could not be opened: the gateway's session key changed. "+
		"Run the command \"Log in to Telegram\" on "+a.t.p.Domain+" to log in again.")
}

// tell sends the account's user a notice from the gateway.
func (a *account) tell(ctx context.Context, text string) {
	if rs := a.t.run.Load(); rs != nil {
		if n, ok := rs.sink.(transports.AccountSink); ok {
			retry(ctx, func(ctx context.Context) error { return n.Notify(ctx, a.user, text) })
		}
	}
}

// forget deletes the account's stored session, state and contacts.
func (a *account) forget(ctx context.Context) error {
	if err := a.t.setSignedIn(ctx, a.user, ""); err != nil {
		return err
	}
	a.self.Store(0)
	for _, k := range []string{keySession(a.user), keyState(a.user), keyContacts(a.user), keyChannels(a.user), keyMissed(a.user)} {
		if err := a.t.p.State.Set(ctx, k, ""); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retry runs f until it succeeds or ctx ends, pausing between attempts.
func retry(ctx context.Context, f func(context.Context) error) bool {
	pause := 100 * time.Millisecond
	for {
		if err := f(ctx); err == nil {
			return true
		}
		if !sleep(ctx, pause) {
			return false
		}
		pause = min(2*pause, retryPause)
	}
}
