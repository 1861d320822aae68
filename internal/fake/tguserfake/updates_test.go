package tguserfake

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
)

func TestPostIsPushed(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	s.AddContact(a.ID, b.ID)
	cl := loggedIn(t, s, a)
	st, err := cl.api.UpdatesGetState(cl.ctx)
	if err != nil {
		t.Fatal(err)
	}

	m := s.Post(b.ID, Peer{User: a.ID}, "ping", 0)
	nm, ups := next[*tg.UpdateNewMessage](cl.ctx, t, cl.in)
	msg := nm.Message.(*tg.Message)
	if msg.ID != m.ID || msg.Message != "ping" || msg.Out || nm.Pts != st.Pts+1 || nm.PtsCount != 1 ||
		!reflect.DeepEqual(msg.PeerID, &tg.PeerUser{UserID: b.ID}) || !reflect.DeepEqual(msg.FromID, &tg.PeerUser{UserID: b.ID}) {
		t.Fatalf("pushed = %+v (pts %d)", msg, nm.Pts)
	}
	var sawBob bool
	for _, u := range ups.Users {
		if u, ok := u.(*tg.User); ok && u.ID == b.ID && u.AccessHash == b.AccessHash {
			sawBob = true
		}
	}
	if !sawBob {
		t.Fatalf("push users = %+v", ups.Users)
	}

	s.Edit(b.ID, m.ID, "pong")
	em, _ := next[*tg.UpdateEditMessage](cl.ctx, t, cl.in)
	if e := em.Message.(*tg.Message); e.Message != "pong" || e.EditDate == 0 || em.Pts != st.Pts+2 {
		t.Fatalf("edit = %+v (pts %d)", e, em.Pts)
	}

	s.React(b.ID, m.ID, "❤")
	rm, _ := next[*tg.UpdateMessageReactions](cl.ctx, t, cl.in)
	if rm.MsgID != m.ID || len(rm.Reactions.Results) != 1 || rm.Reactions.Results[0].Count != 1 ||
		!reflect.DeepEqual(rm.Reactions.Results[0].Reaction, &tg.ReactionEmoji{Emoticon: "❤"}) {
		t.Fatalf("reactions = %+v", rm)
	}

	s.Typing(b.ID, Peer{User: a.ID})
	ty, _ := next[*tg.UpdateUserTyping](cl.ctx, t, cl.in)
	if _, ok := ty.Action.(*tg.SendMessageTypingAction); ty.UserID != b.ID || !ok {
		t.Fatalf("typing = %+v", ty)
	}

	s.SetOnline(b.ID, true)
	us, _ := next[*tg.UpdateUserStatus](cl.ctx, t, cl.in)
	if _, ok := us.Status.(*tg.UserStatusOnline); us.UserID != b.ID || !ok {
		t.Fatalf("status = %+v", us)
	}
	s.SetOnline(b.ID, false)
	us, _ = next[*tg.UpdateUserStatus](cl.ctx, t, cl.in)
	if _, ok := us.Status.(*tg.UserStatusOffline); !ok {
		t.Fatalf("status = %+v", us)
	}

	s.Delete(b.ID, m.ID)
	dm, _ := next[*tg.UpdateDeleteMessages](cl.ctx, t, cl.in)
	if !reflect.DeepEqual(dm.Messages, []int{m.ID}) || dm.Pts != st.Pts+3 || dm.PtsCount != 1 {
		t.Fatalf("delete = %+v", dm)
	}

	s.MarkRead(b.ID, Peer{User: a.ID}, 0)
	quiet[*tg.UpdateReadHistoryOutbox](t, cl.in, 200*time.Millisecond) // nothing of Ann's to read
}

func TestSendReachesPeer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	ca, cb := loggedIn(t, s, a), loggedIn(t, s, b)
	if _, err := cb.api.UpdatesGetState(cb.ctx); err != nil {
		t.Fatal(err)
	}

	_, err := ca.api.MessagesSendMessage(ca.ctx, &tg.MessagesSendMessageRequest{
		Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}, Message: "from the app", RandomID: 99,
	})
	if err != nil {
		t.Fatal(err)
	}
	nm, _ := next[*tg.UpdateNewMessage](cb.ctx, t, cb.in)
	if msg := nm.Message.(*tg.Message); msg.Message != "from the app" || msg.Out || !reflect.DeepEqual(msg.PeerID, &tg.PeerUser{UserID: a.ID}) {
		t.Fatalf("Bob got %+v", msg)
	}
	// The sender's own session gets it in the answer, not pushed.
	quiet[*tg.UpdateNewMessage](t, ca.in, 200*time.Millisecond)

	if _, err := cb.api.MessagesReadHistory(cb.ctx, &tg.MessagesReadHistoryRequest{
		Peer: &tg.InputPeerUser{UserID: a.ID, AccessHash: a.AccessHash},
	}); err != nil {
		t.Fatal(err)
	}
	ro, _ := next[*tg.UpdateReadHistoryOutbox](ca.ctx, t, ca.in)
	if ro.MaxID != 1 || !reflect.DeepEqual(ro.Peer, &tg.PeerUser{UserID: b.ID}) {
		t.Fatalf("read outbox = %+v", ro)
	}
}

func TestHoldAndDifference(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	cl := loggedIn(t, s, a)
	st, err := cl.api.UpdatesGetState(cl.ctx)
	if err != nil {
		t.Fatal(err)
	}

	s.Hold(a.ID, true)
	m1 := s.Post(b.ID, Peer{User: a.ID}, "one", 0)
	m2 := s.Post(b.ID, Peer{User: a.ID}, "two", 0)
	s.Edit(b.ID, m1.ID, "one!")
	quiet[*tg.UpdateNewMessage](t, cl.in, 300*time.Millisecond)

	diff, err := cl.api.UpdatesGetDifference(cl.ctx, &tg.UpdatesGetDifferenceRequest{Pts: st.Pts, Date: st.Date})
	if err != nil {
		t.Fatal(err)
	}
	d := diff.(*tg.UpdatesDifference)
	if len(d.NewMessages) != 2 || d.NewMessages[0].(*tg.Message).ID != m1.ID || d.NewMessages[0].(*tg.Message).Message != "one!" ||
		d.NewMessages[1].(*tg.Message).ID != m2.ID || d.State.Pts != st.Pts+3 || d.State.UnreadCount != 2 {
		t.Fatalf("difference = %+v", d)
	}
	if len(d.OtherUpdates) != 1 {
		t.Fatalf("other updates = %+v", d.OtherUpdates)
	}
	if e := d.OtherUpdates[0].(*tg.UpdateEditMessage); e.Pts != st.Pts+3 || e.Message.(*tg.Message).ID != m1.ID {
		t.Fatalf("edit = %+v", e)
	}
	if len(d.Users) != 2 {
		t.Fatalf("difference users = %+v", d.Users)
	}

	// A limited difference is a slice.
	diff, err = cl.api.UpdatesGetDifference(cl.ctx, &tg.UpdatesGetDifferenceRequest{Pts: st.Pts, PtsTotalLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	sl := diff.(*tg.UpdatesDifferenceSlice)
	if len(sl.NewMessages) != 1 || sl.NewMessages[0].(*tg.Message).ID != m1.ID || sl.IntermediateState.Pts != st.Pts+1 {
		t.Fatalf("slice = %+v", sl)
	}

	// Up to date: empty.
	diff, err = cl.api.UpdatesGetDifference(cl.ctx, &tg.UpdatesGetDifferenceRequest{Pts: st.Pts + 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := diff.(*tg.UpdatesDifferenceEmpty); !ok {
		t.Fatalf("difference = %T", diff)
	}

	s.Hold(a.ID, false)
	s.Post(b.ID, Peer{User: a.ID}, "three", 0)
	nm, _ := next[*tg.UpdateNewMessage](cl.ctx, t, cl.in)
	if msg := nm.Message.(*tg.Message); msg.Message != "three" || nm.Pts != st.Pts+4 {
		t.Fatalf("after hold = %+v (pts %d)", msg, nm.Pts)
	}
}

// TestGotdUpdatesManager runs gotd's own update manager against the fake:
// a held update leaves a pts gap, which it fills with getDifference.
func TestGotdUpdatesManager(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	in := newInbox()
	m := updates.New(updates.Config{Handler: in})
	cl, _ := startClientWith(t, s, &session.StorageMemory{}, m, in)
	self := login(t, s, cl, a.Phone, "")

	runManager(t, cl, m, self.ID)

	texts := func(n int) []string {
		t.Helper()
		var got []string
		for len(got) < n {
			nm, _ := next[*tg.UpdateNewMessage](cl.ctx, t, in)
			got = append(got, nm.Message.(*tg.Message).Message)
		}
		sort.Strings(got)
		return got
	}
	s.Post(b.ID, Peer{User: a.ID}, "one", 0)
	if got := texts(1); !reflect.DeepEqual(got, []string{"one"}) {
		t.Fatalf("got %q", got)
	}
	s.Hold(a.ID, true)
	s.Post(b.ID, Peer{User: a.ID}, "two", 0)
	s.Hold(a.ID, false)
	s.Post(b.ID, Peer{User: a.ID}, "three", 0)
	if got := texts(2); !reflect.DeepEqual(got, []string{"three", "two"}) {
		t.Fatalf("got %q", got)
	}
	quiet[*tg.UpdateNewMessage](t, in, 700*time.Millisecond) // no duplicates
}
