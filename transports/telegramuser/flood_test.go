package telegramuser

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// README: "A FLOOD_WAIT of up to 5 minutes is waited out inside the
// request". One longer than a request's own time limit (rpcTimeout) is
// waited out too: on updates.getDifference it does not tear the session
// down (a new client, users.getUsers, messages.getDialogs: more requests
// while Telegram asks to wait).
func TestFloodWaitLongerThanARequestIsWaitedOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	e, me, carol, tr, sink := c.fakeEnv, c.me, c.carol, c.tr, c.sink
	a := tr.account(testUser)
	before := a.cl.Load()
	wait := int(rpcTimeout/time.Second) + 5
	e.mt.FloodWait(tg.UpdatesGetDifferenceRequestTypeID, wait, 1)
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "hello", 0)
	waitFor(t, ctx, "the contact's message was never relayed", func() bool { _, ok := relayed(sink, "hello"); return ok })
	if a.cl.Load() != before {
		t.Error("a FLOOD_WAIT on updates.getDifference was not waited out: the session was torn down and restarted")
	}
}

// A send's FLOOD_WAIT is not waited out inside Send, where the core holds
// one of its few send slots (one user flooding would stall every user's
// sends): Send returns at once, rate-limited with the wait, and the
// account's sends are paused until it ends: another send meanwhile is
// rate-limited with the time left, without a request. After the wait the
// account sends again.
func TestSendFloodWaitReturnsAtOnceAndPausesTheAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	send := func(id, body string) (time.Duration, error) {
		sctx, cancel := context.WithTimeout(ctx, time.Minute) // as the core gives a send
		defer cancel()
		began := time.Now()
		_, err := c.tr.Send(sctx, transports.Outbound{ID: id, Account: c.account, To: c.to, Body: body})
		return time.Since(began), err
	}
	rateLimited := func(err error) *transports.Error {
		t.Helper()
		var te *transports.Error
		if !errors.As(err, &te) || te.Kind != transports.KindRateLimited {
			t.Fatalf("a send during a FLOOD_WAIT: %v, want it rate-limited", err)
		}
		return te
	}
	const sendMessage = tg.MessagesSendMessageRequestTypeID

	c.mt.Fail(sendMessage, tgerr.New(420, "FLOOD_WAIT_30"))
	took, err := send("fw1", "first")
	if te := rateLimited(err); te.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want Telegram's 30s", te.RetryAfter)
	}
	if took > 5*time.Second {
		t.Errorf("Send took %v: the FLOOD_WAIT was waited out inside it", took)
	}
	c.mt.Fail(sendMessage, nil) // a request now would go through
	calls := c.mt.CallsOf(sendMessage)
	_, err = send("fw2", "second")
	if te := rateLimited(err); te.RetryAfter <= 0 || te.RetryAfter > 30*time.Second {
		t.Errorf("RetryAfter = %v, want the time left of the 30s", te.RetryAfter)
	}
	if n := c.mt.CallsOf(sendMessage) - calls; n != 0 {
		t.Errorf("a send while the account waits made %d messages.sendMessage requests", n)
	}

	// Once a (short) wait is over, the account sends again.
	a := c.tr.account(testUser)
	a.sendPause.Store(0)
	c.mt.FloodWait(sendMessage, 1, 1)
	if _, err := send("fw3", "third"); err == nil {
		t.Fatal("the send with a FLOOD_WAIT went through")
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := send("fw3", "third"); err != nil {
		t.Errorf("a send after the wait: %v", err)
	}
}

// countHandler is a slog handler that counts the records with each of
// its messages.
type countHandler map[string]*atomic.Int64

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if n := h[r.Message]; n != nil {
		n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// Only a 420 of a *_WAIT type with a positive time is a wait.
func TestAsWaitOnlyForTimedWaits(t *testing.T) {
	for _, c := range []struct {
		err  error
		wait time.Duration
		ok   bool
	}{
		{tgerr.New(420, "FLOOD_WAIT_7"), 7 * time.Second, true},
		{tgerr.New(420, "SLOWMODE_WAIT_30"), 30 * time.Second, true},
		{tgerr.New(420, "FLOOD_PREMIUM_WAIT_3"), 3 * time.Second, true},
		{tgerr.New(420, "FROZEN_METHOD_INVALID"), 0, false},
		{tgerr.New(420, "FLOOD_WAIT_0"), 0, false},
		{tgerr.New(400, "SLOWMODE_WAIT_5"), 0, false},
		{errors.New("FLOOD_WAIT_5"), 0, false},
	} {
		if d, ok := asWait(c.err); d != c.wait || ok != c.ok {
			t.Errorf("asWait(%v) = %v, %v; want %v, %v", c.err, d, ok, c.wait, c.ok)
		}
	}
}

// A 420 that names no time (FROZEN_METHOD_INVALID, Telegram's answer to a
// frozen account) is no wait of 0 s: the follower does not ask
// updates.getDifference again at once, in a loop (its session fails and
// is restarted after retryPause), and a send refused so is not "rate
// limited, retry after 0 s".
func TestError420WithoutTimeIsNotAWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	var waits, restarts atomic.Int64
	log := slog.New(countHandler{
		"Telegram asks to wait before reading the updates; waiting": &waits,
		"Telegram session failed; restarting":                       &restarts,
	})
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: e.kv, Logger: log}, e.s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, &transporttest.Sink{}) }()
	defer func() { stop(); <-done }()
	signInAt(t, tr, e.mt, "+15550001111")
	a := tr.account(testUser)
	e.mt.Fail(tg.UpdatesGetDifferenceRequestTypeID, tgerr.New(420, "FROZEN_METHOD_INVALID"))
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "hello", 0) // a push: read the difference
	waitFor(t, ctx, "the follower never got the error", func() bool { return restarts.Load() > 0 || waits.Load() > 10 })
	e.mt.Fail(tg.UpdatesGetDifferenceRequestTypeID, nil)
	if n := waits.Load(); n > 0 {
		t.Errorf("the follower took a 420 without a time for a wait (%d times)", n)
	}

	waitFor(t, ctx, "the session never came back", a.up.Load)
	e.mt.Fail(tg.MessagesSendMessageRequestTypeID, tgerr.New(420, "FROZEN_METHOD_INVALID"))
	_, err = tr.Send(ctx, transports.Outbound{ID: "z1", Account: tr.Accounts()[testUser], To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "hi"})
	var te *transports.Error
	if !errors.As(err, &te) || te.Kind != transports.KindRejected {
		t.Errorf("a send refused with 420 FROZEN_METHOD_INVALID: %v, want it rejected", err)
	}
}
