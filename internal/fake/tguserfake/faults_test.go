package tguserfake

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

func TestFloodWait(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cl := loggedIn(t, s, s.AddUser(ann))

	s.FloodWait(tg.ContactsGetContactsRequestTypeID, 7, 2)
	for i := range 2 {
		_, err := cl.api.ContactsGetContacts(cl.ctx, 0)
		d, ok := tgerr.AsFloodWait(err)
		if !ok || d != 7*time.Second {
			t.Fatalf("call %d: %v", i, err)
		}
		wantRPCError(t, err, 420, "FLOOD_WAIT")
	}
	if _, err := cl.api.ContactsGetContacts(cl.ctx, 0); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if n := s.CallsOf(tg.ContactsGetContactsRequestTypeID); n != 3 {
		t.Errorf("CallsOf(contacts.getContacts) = %d after 3 calls, 2 of them failed", n)
	}
	// Other methods are not affected.
	s.FloodWait(tg.MessagesGetDialogsRequestTypeID, 1, 1)
	if _, err := cl.api.ContactsGetContacts(cl.ctx, 0); err != nil {
		t.Fatal(err)
	}
}

func TestFailAfter(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cl := loggedIn(t, s, s.AddUser(ann))
	const getContacts = tg.ContactsGetContactsRequestTypeID
	s.FailAfter(getContacts, 2, tgerr.New(500, "INTERNAL"))
	for i := range 4 {
		_, err := cl.api.ContactsGetContacts(cl.ctx, 0)
		if i < 2 && err != nil {
			t.Fatalf("call %d: %v, want it through", i, err)
		}
		if i >= 2 {
			wantRPCError(t, err, 500, "INTERNAL")
		}
	}
	s.Fail(getContacts, nil)
	if _, err := cl.api.ContactsGetContacts(cl.ctx, 0); err != nil {
		t.Fatalf("after Fail(nil): %v", err)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.AddUser(ann)
	cl := loggedIn(t, s, a)
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized = %d", got)
	}
	s.Revoke(a.ID)
	if got := s.Authorized(a.ID); got != 0 {
		t.Fatalf("Authorized after revoke = %d", got)
	}
	_, err := cl.Self(cl.ctx)
	wantRPCError(t, err, 401, "AUTH_KEY_UNREGISTERED")
	_, err = cl.api.UpdatesGetDifference(cl.ctx, &tg.UpdatesGetDifferenceRequest{Pts: 1})
	wantRPCError(t, err, 401, "AUTH_KEY_UNREGISTERED")

	// The same auth key can log in again.
	login(t, s, cl, a.Phone, "")
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized after new login = %d", got)
	}
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	cl := loggedIn(t, s, a)

	s.Disconnect(a.ID)
	// The client reconnects with its auth key and is still logged in.
	// Calls on the cut connection fail until then.
	var self *tg.User
	for {
		var err error
		if self, err = cl.Self(cl.ctx); err == nil {
			break
		}
		if _, ok := tgerr.As(err); ok || cl.ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if self.ID != a.ID {
		t.Fatalf("self = %d", self.ID)
	}
	s.Post(b.ID, Peer{User: a.ID}, "after reconnect", 0)
	nm, _ := next[*tg.UpdateNewMessage](cl.ctx, t, cl.in)
	if msg := nm.Message.(*tg.Message); msg.Message != "after reconnect" {
		t.Fatalf("pushed %+v", msg)
	}
}

// A held call waits for release, while the connection's other calls are
// answered (as Telegram answers requests independently); Held counts it.
func TestHoldCallsHoldsOnlyThatCall(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cl := loggedIn(t, s, s.AddUser(ann))
	release := s.HoldCalls(tg.ContactsGetContactsRequestTypeID)
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := cl.api.ContactsGetContacts(cl.ctx, 0)
		done <- err
	}()
	for s.Held(tg.ContactsGetContactsRequestTypeID) == 0 {
		if cl.ctx.Err() != nil {
			t.Fatal("the call was never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(cl.ctx, 10*time.Second) // a guard
	defer cancel()
	if _, err := cl.api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 10}); err != nil {
		t.Fatalf("another call while one is held: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the held call was answered before its release: %v", err)
	default:
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("the held call, released: %v", err)
	}
	if n := s.Held(tg.ContactsGetContactsRequestTypeID); n != 0 {
		t.Errorf("Held after release = %d", n)
	}
}
