package telegramuser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// A contact deletes (for both sides) a message the gateway relayed before
// a restart: Telegram's UpdateDeleteMessages names only message ids, and
// the chat of each is remembered in the store too, so the retraction still
// reaches XMPP after the restart.
func TestDeletionAfterRestartRelayed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	sink := &transporttest.Sink{}
	tr, stop := e.run(t, ctx, sink)
	signInAt(t, tr, e.mt, "+15550001111")
	m := e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "oops, wrong chat", 0)
	got := sink.WaitInbound(t, 0)
	stop()

	sink = &transporttest.Sink{}
	tr, stop = e.run(t, ctx, sink)
	defer stop()
	waitSignedIn(t, ctx, tr, testUser)
	e.mt.Delete(carol.ID, m.ID)
	waitFor(t, ctx, "the contact's deletion after a restart was not relayed", func() bool {
		for _, in := range sink.Inbound() {
			if in.Retracts == got[0].ID && in.From == transports.Addr(strconv.FormatInt(carol.ID, 10)) {
				return true
			}
		}
		return false
	})
}

// An edit the user makes in the Telegram app to a message they sent from
// XMPP is relayed as a correction; the gateway's own correction of it is
// not relayed back.
func TestOwnEditInAppRelayed(t *testing.T) {
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
	account := tr.Accounts()[testUser]
	to := transports.Addr(strconv.FormatInt(carol.ID, 10))
	id, err := tr.Send(ctx, transports.Outbound{ID: "1", Account: account, To: to, Body: "meet at 5"})
	if err != nil {
		t.Fatal(err)
	}
	// Corrected from XMPP: the gateway's own edit.
	if _, err := tr.Send(ctx, transports.Outbound{ID: "2", Account: account, To: to, Body: "meet at 5:30", Replaces: id}); err != nil {
		t.Fatal(err)
	}
	sent := e.mt.History(me.ID, tguserfake.Peer{User: carol.ID})
	e.mt.Edit(me.ID, sent[len(sent)-1].ID, "meet at 6") // in the Telegram app
	waitFor(t, ctx, "the user's edit in the Telegram app was not relayed", func() bool {
		for _, in := range sink.Inbound() {
			if in.Replaces == id && in.Body == "meet at 6" {
				return true
			}
		}
		return false
	})
	for _, in := range sink.Inbound() {
		if in.Body == "meet at 5" || in.Body == "meet at 5:30" {
			t.Errorf("the gateway's own send or edit came back: %+v", in)
		}
	}
}
