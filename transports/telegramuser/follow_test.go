package telegramuser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

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
	c := newChat(t, ctx)
	e, me, carol, tr, sink, account, to := c.fakeEnv, c.me, c.carol, c.tr, c.sink, c.account, c.to
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

// The user sends "meet at 5" from XMPP, edits it in the Telegram app to
// "meet at 6", then back to "meet at 5": both edits are relayed (the
// record of the gateway's sends follows the text the message has, not the
// text the gateway sent).
func TestEditBackToSentTextRelayed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	e, me, carol, tr, sink, account, to := c.fakeEnv, c.me, c.carol, c.tr, c.sink, c.account, c.to
	id, err := tr.Send(ctx, transports.Outbound{ID: "1", Account: account, To: to, Body: "meet at 5"})
	if err != nil {
		t.Fatal(err)
	}
	sent := e.mt.History(me.ID, tguserfake.Peer{User: carol.ID})
	msg := sent[len(sent)-1].ID
	e.mt.Edit(me.ID, msg, "meet at 6") // in the Telegram app
	waitFor(t, ctx, "the first edit in the app was not relayed", func() bool { return correctedTo(sink, id, "meet at 6") })
	e.mt.Edit(me.ID, msg, "meet at 5") // changed back, in the app
	readPast(t, ctx, e, sink, carol.ID, me.ID)
	if !correctedTo(sink, id, "meet at 5") {
		t.Error("the user's edit back to the sent text in the Telegram app was dropped as the gateway's own")
	}
}

// readPast waits until the follower has handled every update before it
// was called: a message from contact to user in a later difference than
// them is relayed (the first can share a difference with them, and a
// difference's new messages are handled before its other updates).
func readPast(t *testing.T, ctx context.Context, e *fakeEnv, sink *transporttest.Sink, contact, user int64) {
	t.Helper()
	for i := range 2 {
		body := "read past " + strconv.Itoa(i) + " " + strconv.FormatInt(time.Now().UnixNano(), 36)
		e.mt.Post(contact, tguserfake.Peer{User: user}, body, 0)
		waitFor(t, ctx, "the contact's message was not relayed", func() bool { _, ok := relayed(sink, body); return ok })
	}
}

// correctedTo reports whether a correction of id to body reached the sink.
func correctedTo(sink *transporttest.Sink, id, body string) bool {
	for _, in := range sink.Inbound() {
		if in.Replaces == id && in.Body == body {
			return true
		}
	}
	return false
}

// A correction from XMPP that Telegram refuses (here: the edit window has
// passed) does not change the record: the user's later edit in the
// Telegram app to that text is relayed.
func TestRefusedCorrectionNotRecorded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	e, me, carol, tr, sink, account, to := c.fakeEnv, c.me, c.carol, c.tr, c.sink, c.account, c.to
	id, err := tr.Send(ctx, transports.Outbound{ID: "1", Account: account, To: to, Body: "meet at 5"})
	if err != nil {
		t.Fatal(err)
	}
	e.mt.Fail(tg.MessagesEditMessageRequestTypeID, tgerr.New(400, "MESSAGE_EDIT_TIME_EXPIRED"))
	if _, err := tr.Send(ctx, transports.Outbound{ID: "2", Account: account, To: to, Body: "meet at 7", Replaces: id}); err == nil {
		t.Fatal("the refused correction succeeded")
	}
	e.mt.Fail(tg.MessagesEditMessageRequestTypeID, nil)
	sent := e.mt.History(me.ID, tguserfake.Peer{User: carol.ID})
	e.mt.Edit(me.ID, sent[len(sent)-1].ID, "meet at 7") // in the Telegram app
	readPast(t, ctx, e, sink, carol.ID, me.ID)
	if !correctedTo(sink, id, "meet at 7") {
		t.Error("the user's edit to the refused correction's text was dropped as the gateway's own")
	}
}

// A correction from XMPP whose answer does not come in time, although
// Telegram made it, is not relayed back as the user's edit: its pending
// marker covers it until it is recorded.
func TestUnansweredCorrectionNotEchoed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	e, me, carol, tr, sink, account, to := c.fakeEnv, c.me, c.carol, c.tr, c.sink, c.account, c.to
	id, err := tr.Send(ctx, transports.Outbound{ID: "1", Account: account, To: to, Body: "meet at 5"})
	if err != nil {
		t.Fatal(err)
	}
	release := e.mt.HoldCalls(tg.MessagesEditMessageRequestTypeID)
	defer release()
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second) // the answer does not come in time
	_, err = tr.Send(sctx, transports.Outbound{ID: "2", Account: account, To: to, Body: "meet at 5:30", Replaces: id})
	scancel()
	if err == nil {
		t.Fatal("the held correction succeeded")
	}
	release() // Telegram makes it after all
	waitFor(t, ctx, "the correction never reached Telegram", func() bool { return sentText(e, me.ID, carol.ID, "meet at 5:30") })
	readPast(t, ctx, e, sink, carol.ID, me.ID)
	if correctedTo(sink, id, "meet at 5:30") {
		t.Error("a correction made through the gateway came back as the user's edit")
	}
}
