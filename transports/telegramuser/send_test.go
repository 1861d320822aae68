package telegramuser

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// Telegram's other 420 errors (SLOWMODE_WAIT_X in a supergroup with slow
// mode, FLOOD_PREMIUM_WAIT_X) are waits, like FLOOD_WAIT: a send refused
// with one is retried after X seconds, not failed for good.
func TestSendSlowModeIsTemporary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	defer stop()
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	for _, name := range []string{"SLOWMODE_WAIT_10", "FLOOD_PREMIUM_WAIT_10"} {
		e.mt.Fail(tg.MessagesSendMessageRequestTypeID, tgerr.New(420, name))
		_, err := tr.Send(ctx, transports.Outbound{ID: "s-" + name, Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "hi"})
		var te *transports.Error
		if !errors.As(err, &te) || te.Kind != transports.KindRateLimited || te.RetryAfter != 10*time.Second {
			t.Errorf("%s: %v, want rate limited, retry after 10 s", name, err)
		}
	}
}

// relayed reports whether a message with body reached the sink.
func relayed(sink *transporttest.Sink, body string) (transports.Inbound, bool) {
	for _, in := range sink.Inbound() {
		if in.Body == body {
			return in, true
		}
	}
	return transports.Inbound{}, false
}

// A message the user sent through the gateway does not come back to them
// as "their own message from another Telegram app" after a clean restart:
// the follower reads the difference only on a push or every 30 s, and
// Telegram pushes nothing to the key that sent it, so the difference read
// after a restart within those 30 s holds the sent message. The record of
// the gateway's sends outlives the restart.
func TestOwnSendNotEchoedAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)

	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	if _, err := tr.Send(ctx, transports.Outbound{ID: "42", Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "sent from XMPP"}); err != nil {
		t.Fatal(err)
	}
	stop() // a clean restart, within followEvery of the send

	sink := &transporttest.Sink{}
	tr, stop = e.run(t, ctx, sink)
	defer stop()
	waitSignedIn(t, ctx, tr, testUser)
	// The first catch-up is done once a later message has come through.
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "got it", 0)
	waitFor(t, ctx, "the contact's reply never came", func() bool { _, ok := relayed(sink, "got it"); return ok })
	if in, ok := relayed(sink, "sent from XMPP"); ok {
		t.Errorf("the user's own message, sent through the gateway, came back as an inbound message: %+v", in)
	}
}

// Two XMPP users (say, one person's work and home JIDs) signed in to one
// Telegram account: Send goes through either session, and the other
// session's follower does not relay the sent message back as the user's
// own: the record of the gateway's sends is the Telegram account's.
func TestSharedAccountDoesNotEchoOwnSends(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	sink := &transporttest.Sink{}
	tr, stop := e.run(t, ctx, sink)
	defer stop()
	signInAt(t, tr, e.mt, "+15550001111")
	signInUser(t, ctx, tr, e.mt, "alice@home.example", "+15550001111")
	account := tr.Accounts()[testUser]
	for i := range 4 {
		body := "from XMPP " + strconv.Itoa(i)
		if _, err := tr.Send(ctx, transports.Outbound{ID: "j" + strconv.Itoa(i), Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	// Both sessions have read past the sends once a later message reached both.
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "got them", 0)
	waitFor(t, ctx, "the contact's reply never reached both sessions", func() bool {
		n := 0
		for _, in := range sink.Inbound() {
			if in.Body == "got them" {
				n++
			}
		}
		return n >= 2
	})
	for _, in := range sink.Inbound() {
		if strings.HasPrefix(in.Body, "from XMPP") {
			t.Errorf("a message sent through the gateway came back as the user's own: %+v", in)
		}
	}
}

// A send under way to one chat (here unanswered: held at Telegram) holds
// up no incoming message: another contact's message is relayed, and so is
// what the user types meanwhile in the same chat in a Telegram app; the
// send, once answered, is not relayed back.
func TestSendUnderWayHoldsUpNoMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	dave := e.mt.AddUser(tguserfake.User{Phone: "+15550003333", FirstName: "Dave"})
	e.mt.AddContact(me.ID, carol.ID)
	e.mt.AddContact(me.ID, dave.ID)
	sink := &transporttest.Sink{}
	tr, stop := e.run(t, ctx, sink)
	defer stop()
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	to := transports.Addr(strconv.FormatInt(carol.ID, 10))
	release := e.mt.HoldCalls(tg.MessagesSendMessageRequestTypeID)
	defer release()
	sent := make(chan error, 1)
	go func() {
		_, err := tr.Send(ctx, transports.Outbound{ID: "f1", Account: account, To: to, Body: "from XMPP"})
		sent <- err
	}()
	waitFor(t, ctx, "the send never reached Telegram", func() bool { return e.mt.Held(tg.MessagesSendMessageRequestTypeID) > 0 })
	e.mt.Post(me.ID, tguserfake.Peer{User: carol.ID}, "typed on the phone", 0)
	e.mt.Post(dave.ID, tguserfake.Peer{User: me.ID}, "hello from Dave", 0)
	var done bool
	waitFor(t, ctx, "neither relayed nor sent", func() bool {
		select {
		case err := <-sent:
			sent <- err
			done = true
			return true
		default:
		}
		_, dv := relayed(sink, "hello from Dave")
		_, ph := relayed(sink, "typed on the phone")
		return dv && ph
	})
	if done {
		t.Fatalf("the messages to the user were relayed only once the send had ended (%v)", <-sent)
	}
	release()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "got it", 0)
	waitFor(t, ctx, "the contact's reply never came", func() bool { _, ok := relayed(sink, "got it"); return ok })
	if in, ok := relayed(sink, "from XMPP"); ok {
		t.Errorf("a message sent through the gateway came back as the user's own: %+v", in)
	}
}

// README: "What you sent through the gateway ... is not [relayed back as
// yours]", even when the send's answer does not come in time (the send
// fails, and the core sends it again later with the same random_id)
// although Telegram took the message: the follower reads it before the
// retry, and takes it for the gateway's from the send's pending marker.
func TestUnansweredSendNotEchoed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	e, me, carol, tr, sink, account, to := c.fakeEnv, c.me, c.carol, c.tr, c.sink, c.account, c.to
	release := e.mt.HoldCalls(tg.MessagesSendMessageRequestTypeID)
	defer release()
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second) // the answer does not come in time
	_, err := tr.Send(sctx, transports.Outbound{ID: "7", Account: account, To: to, Body: "sent from XMPP"})
	scancel()
	if err == nil {
		t.Fatal("the held send succeeded")
	}
	release() // Telegram takes it after all
	waitFor(t, ctx, "the send never reached Telegram", func() bool { return sentText(e, me.ID, carol.ID, "sent from XMPP") })
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "got it", 0)
	waitFor(t, ctx, "the contact's reply never came", func() bool { _, ok := relayed(sink, "got it"); return ok })
	// The core's retry, with the same job id (random_id): taken once.
	if _, err := tr.Send(ctx, transports.Outbound{ID: "7", Account: account, To: to, Body: "sent from XMPP"}); err != nil {
		t.Fatal(err)
	}
	if in, ok := relayed(sink, "sent from XMPP"); ok {
		t.Errorf("a message sent through the gateway came back as the user's own: %+v", in)
	}
}

// The same, with a restart between the unanswered send and Telegram
// taking it: the pending marker is in the store.
func TestUnansweredSendNotEchoedAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	release := e.mt.HoldCalls(tg.MessagesSendMessageRequestTypeID)
	defer release()
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := tr.Send(sctx, transports.Outbound{ID: "8", Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "sent before the restart"})
	scancel()
	if err == nil {
		t.Fatal("the held send succeeded")
	}
	stop()
	release()
	waitFor(t, ctx, "the send never reached Telegram", func() bool { return sentText(e, me.ID, carol.ID, "sent before the restart") })

	sink := &transporttest.Sink{}
	tr, stop = e.run(t, ctx, sink)
	defer stop()
	waitSignedIn(t, ctx, tr, testUser)
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "got it", 0)
	waitFor(t, ctx, "the contact's reply never came", func() bool { _, ok := relayed(sink, "got it"); return ok })
	if in, ok := relayed(sink, "sent before the restart"); ok {
		t.Errorf("a message sent through the gateway came back as the user's own after a restart: %+v", in)
	}
}

// sentText reports whether user's chat with other holds a message with text.
func sentText(e *fakeEnv, user, other int64, text string) bool {
	for _, m := range e.mt.History(user, tguserfake.Peer{User: other}) {
		if m.Text == text {
			return true
		}
	}
	return false
}
