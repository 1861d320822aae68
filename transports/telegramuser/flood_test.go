package telegramuser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// README: "A FLOOD_WAIT of up to 5 minutes is waited out inside the
// request". One longer than a request's own time limit (rpcTimeout) is
// waited out too: on updates.getDifference it does not tear the session
// down (a new client, users.getUsers, messages.getDialogs: more requests
// while Telegram asks to wait), and a send given a minute (as the core
// gives it) goes through after the wait.
func TestFloodWaitLongerThanARequestIsWaitedOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	sink := &transporttest.Sink{}
	tr, stop := e.run(t, ctx, sink)
	defer stop()
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	a := tr.account(testUser)
	before := a.cl.Load()
	wait := int(rpcTimeout/time.Second) + 5
	e.mt.FloodWait(tg.UpdatesGetDifferenceRequestTypeID, wait, 1)
	e.mt.FloodWait(tg.MessagesSendMessageRequestTypeID, wait, 1)
	sent := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := tr.Send(sctx, transports.Outbound{ID: "f1", Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "after the wait"})
		sent <- err
	}()
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "hello", 0)
	waitFor(t, ctx, "the contact's message was never relayed", func() bool { _, ok := relayed(sink, "hello"); return ok })
	if a.cl.Load() != before {
		t.Error("a FLOOD_WAIT on updates.getDifference was not waited out: the session was torn down and restarted")
	}
	if err := <-sent; err != nil {
		t.Errorf("a send with a FLOOD_WAIT shorter than its minute: %v", err)
	}
}
