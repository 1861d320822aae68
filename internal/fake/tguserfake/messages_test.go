package tguserfake

import (
	"reflect"
	"testing"

	"github.com/gotd/td/tg"
)

func TestContactsAndDialogs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b, c := s.AddUser(ann), s.AddUser(bob), s.AddUser(carol)
	s.AddContact(a.ID, b.ID)
	s.AddContact(b.ID, a.ID)
	s.AddContact(a.ID, c.ID)
	team := s.AddGroup("Team", b.ID, a.ID, c.ID)
	if team != 5000001 {
		t.Fatalf("group id = %d", team)
	}
	m1 := s.Post(b.ID, Peer{User: a.ID}, "hi Ann", 0)
	m2 := s.Post(a.ID, Peer{User: b.ID}, "hi Bob", m1.ID)
	m3 := s.Post(c.ID, Peer{Chat: team}, "hello team", 0)
	if m1.ID != 1 || m2.ID != 2 || m3.ID != 3 || m2.ReplyTo != 1 || m2.Peer != (Peer{User: b.ID}) {
		t.Fatalf("posted %+v %+v %+v", m1, m2, m3)
	}

	cl := loggedIn(t, s, a)

	contacts, err := cl.api.ContactsGetContacts(cl.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	cc := contacts.(*tg.ContactsContacts)
	if want := []tg.Contact{{UserID: b.ID, Mutual: true}, {UserID: c.ID}}; !reflect.DeepEqual(cc.Contacts, want) {
		t.Fatalf("contacts = %+v", cc.Contacts)
	}
	if len(cc.Users) != 2 {
		t.Fatalf("contact users = %d", len(cc.Users))
	}
	bu := cc.Users[0].(*tg.User)
	if bu.ID != b.ID || bu.AccessHash != b.AccessHash || bu.FirstName != "Bob" || !bu.Contact || !bu.MutualContact || bu.Phone != "15550002222" {
		t.Fatalf("bob = %+v", bu)
	}

	res, err := cl.api.MessagesGetDialogs(cl.ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	ds := res.(*tg.MessagesDialogs)
	type row struct {
		peer                  tg.PeerClass
		top, unread, inbox, o int
	}
	var got []row
	for _, d := range ds.Dialogs {
		d := d.(*tg.Dialog)
		got = append(got, row{d.Peer, d.TopMessage, d.UnreadCount, d.ReadInboxMaxID, d.ReadOutboxMaxID})
	}
	want := []row{
		{&tg.PeerChat{ChatID: team}, 3, 1, 0, 0},
		{&tg.PeerUser{UserID: b.ID}, 2, 1, 0, 0},
		{&tg.PeerUser{UserID: c.ID}, 0, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dialogs = %+v", got)
	}
	if len(ds.Messages) != 2 || len(ds.Chats) != 1 || len(ds.Users) != 3 {
		t.Fatalf("dialogs refs: %d messages, %d chats, %d users", len(ds.Messages), len(ds.Chats), len(ds.Users))
	}
	if ch := ds.Chats[0].(*tg.Chat); ch.ID != team || ch.Title != "Team" || ch.ParticipantsCount != 3 {
		t.Fatalf("chat = %+v", ch)
	}

	// A page of one continues after its offset peer.
	res, err = cl.api.MessagesGetDialogs(cl.ctx, &tg.MessagesGetDialogsRequest{
		OffsetPeer: &tg.InputPeerChat{ChatID: team}, OffsetID: 3, Limit: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	slice := res.(*tg.MessagesDialogsSlice)
	if slice.Count != 3 || len(slice.Dialogs) != 1 || slice.Dialogs[0].(*tg.Dialog).TopMessage != 2 {
		t.Fatalf("dialogs page = %+v", slice)
	}

	hist, err := cl.api.MessagesGetHistory(cl.ctx, &tg.MessagesGetHistoryRequest{
		Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}, Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	hm := hist.(*tg.MessagesMessages)
	if len(hm.Messages) != 2 {
		t.Fatalf("history = %d messages", len(hm.Messages))
	}
	newest, oldest := hm.Messages[0].(*tg.Message), hm.Messages[1].(*tg.Message)
	if newest.ID != 2 || !newest.Out || newest.Message != "hi Bob" || newest.ReplyTo.(*tg.MessageReplyHeader).ReplyToMsgID != 1 ||
		!reflect.DeepEqual(newest.PeerID, &tg.PeerUser{UserID: b.ID}) {
		t.Fatalf("newest = %+v", newest)
	}
	if oldest.ID != 1 || oldest.Out || oldest.Message != "hi Ann" || !reflect.DeepEqual(oldest.FromID, &tg.PeerUser{UserID: b.ID}) {
		t.Fatalf("oldest = %+v", oldest)
	}
	hist, err = cl.api.MessagesGetHistory(cl.ctx, &tg.MessagesGetHistoryRequest{
		Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}, OffsetID: 2, Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if hs := hist.(*tg.MessagesMessagesSlice); hs.Count != 2 || len(hs.Messages) != 1 || hs.Messages[0].(*tg.Message).ID != 1 {
		t.Fatalf("history page = %+v", hs)
	}

	// A wrong access hash is refused.
	_, err = cl.api.MessagesGetHistory(cl.ctx, &tg.MessagesGetHistoryRequest{Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: 1}})
	wantRPCError(t, err, 400, "PEER_ID_INVALID")

	full, err := cl.api.UsersGetFullUser(cl.ctx, &tg.InputUser{UserID: b.ID, AccessHash: b.AccessHash})
	if err != nil {
		t.Fatal(err)
	}
	if full.FullUser.ID != b.ID || full.FullUser.CommonChatsCount != 1 || len(full.Users) != 1 {
		t.Fatalf("full user = %+v", full)
	}
	users, err := cl.api.UsersGetUsers(cl.ctx, []tg.InputUserClass{&tg.InputUserSelf{}, &tg.InputUser{UserID: c.ID, AccessHash: c.AccessHash}})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].(*tg.User).ID != a.ID || !users[0].(*tg.User).Self || users[1].(*tg.User).FirstName != "Carol" {
		t.Fatalf("users = %+v", users)
	}
	fc, err := cl.api.MessagesGetFullChat(cl.ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	parts := fc.FullChat.(*tg.ChatFull).Participants.(*tg.ChatParticipants).Participants
	if len(parts) != 3 || parts[0].(*tg.ChatParticipantCreator).UserID != b.ID || len(fc.Users) != 3 {
		t.Fatalf("full chat = %+v", fc)
	}
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	s.AddContact(a.ID, b.ID)
	cl := loggedIn(t, s, a)
	toBob := &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}

	send := func(text string, randomID int64) *tg.Updates {
		t.Helper()
		res, err := cl.api.MessagesSendMessage(cl.ctx, &tg.MessagesSendMessageRequest{Peer: toBob, Message: text, RandomID: randomID})
		if err != nil {
			t.Fatal(err)
		}
		return res.(*tg.Updates)
	}
	st, err := cl.api.UpdatesGetState(cl.ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := send("hello", 42)
	idUpd := first.Updates[0].(*tg.UpdateMessageID)
	newUpd := first.Updates[1].(*tg.UpdateNewMessage)
	msg := newUpd.Message.(*tg.Message)
	if idUpd.ID != 1 || idUpd.RandomID != 42 || msg.ID != 1 || !msg.Out || msg.Message != "hello" ||
		newUpd.Pts != st.Pts+1 || newUpd.PtsCount != 1 {
		t.Fatalf("sent = %+v %+v %+v", idUpd, newUpd, msg)
	}

	// The same random_id again (a resend) returns the first message.
	again := send("hello", 42)
	if id := again.Updates[0].(*tg.UpdateMessageID).ID; id != 1 {
		t.Fatalf("resend id = %d", id)
	}
	if pts := again.Updates[1].(*tg.UpdateNewMessage).Pts; pts != st.Pts+1 {
		t.Fatalf("resend pts = %d", pts)
	}
	second := send("again", 43)
	if id := second.Updates[0].(*tg.UpdateMessageID).ID; id != 2 {
		t.Fatalf("second id = %d", id)
	}

	sent := s.Sent(a.ID)
	if len(sent) != 2 || sent[0].ID != 1 || sent[0].Text != "hello" || sent[0].From != a.ID || sent[0].Peer != (Peer{User: b.ID}) ||
		sent[1].ID != 2 || sent[1].Text != "again" {
		t.Fatalf("Sent = %+v", sent)
	}
	hist := s.History(b.ID, Peer{User: a.ID})
	if len(hist) != 2 || hist[0].Text != "hello" || hist[1].Text != "again" {
		t.Fatalf("Bob's history = %+v", hist)
	}

	// Edit, react, delete, read, type.
	if _, err := cl.api.MessagesEditMessage(cl.ctx, &tg.MessagesEditMessageRequest{Peer: toBob, ID: 1, Message: "hello!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.api.MessagesSendReaction(cl.ctx, &tg.MessagesSendReactionRequest{
		Peer: toBob, MsgID: 1, Reaction: []tg.ReactionClass{&tg.ReactionEmoji{Emoticon: "👍"}},
	}); err != nil {
		t.Fatal(err)
	}
	aff, err := cl.api.MessagesDeleteMessages(cl.ctx, &tg.MessagesDeleteMessagesRequest{Revoke: true, ID: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	if aff.PtsCount != 1 || aff.Pts != st.Pts+4 {
		t.Fatalf("affected = %+v (state %d)", aff, st.Pts)
	}
	s.Post(b.ID, Peer{User: a.ID}, "reply", 1)
	if _, err := cl.api.MessagesReadHistory(cl.ctx, &tg.MessagesReadHistoryRequest{Peer: toBob, MaxID: 3}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := cl.api.MessagesSetTyping(cl.ctx, &tg.MessagesSetTypingRequest{Peer: toBob, Action: &tg.SendMessageTypingAction{}}); err != nil {
			t.Fatal(err)
		}
	}

	sent = s.Sent(a.ID)
	if len(sent) != 2 || sent[0].Text != "hello!" || !sent[0].Edited || sent[0].Deleted ||
		!reflect.DeepEqual(sent[0].Reactions, map[int64][]string{a.ID: {"👍"}}) || !sent[1].Deleted {
		t.Fatalf("Sent after changes = %+v", sent)
	}
	if got := s.History(b.ID, Peer{User: a.ID}); len(got) != 2 || got[0].Text != "hello!" || got[1].Text != "reply" {
		t.Fatalf("Bob's history after changes = %+v", got)
	}
	if got := s.ReadUpTo(a.ID, Peer{User: b.ID}); got != 3 {
		t.Fatalf("ReadUpTo = %d", got)
	}
	if got := s.TypingSeen(a.ID, Peer{User: b.ID}); got != 2 {
		t.Fatalf("TypingSeen = %d", got)
	}

	_, err = cl.api.MessagesEditMessage(cl.ctx, &tg.MessagesEditMessageRequest{Peer: toBob, ID: 3, Message: "not mine"})
	wantRPCError(t, err, 403, "MESSAGE_AUTHOR_REQUIRED")
	_, err = cl.api.MessagesSendMessage(cl.ctx, &tg.MessagesSendMessageRequest{Peer: toBob, Message: " ", RandomID: 44})
	wantRPCError(t, err, 400, "MESSAGE_EMPTY")
}

func TestGroupMessage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b, c := s.AddUser(ann), s.AddUser(bob), s.AddUser(carol)
	team := s.AddGroup("Team", a.ID, b.ID, c.ID)
	cl := loggedIn(t, s, a)

	res, err := cl.api.MessagesSendMessage(cl.ctx, &tg.MessagesSendMessageRequest{
		Peer: &tg.InputPeerChat{ChatID: team}, Message: "hi all", RandomID: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := res.(*tg.Updates).Updates[1].(*tg.UpdateNewMessage).Message.(*tg.Message)
	if !reflect.DeepEqual(msg.PeerID, &tg.PeerChat{ChatID: team}) || !reflect.DeepEqual(msg.FromID, &tg.PeerUser{UserID: a.ID}) {
		t.Fatalf("group message = %+v", msg)
	}
	for _, u := range []int64{b.ID, c.ID} {
		if h := s.History(u, Peer{Chat: team}); len(h) != 1 || h[0].Text != "hi all" || h[0].From != a.ID {
			t.Fatalf("history of %d = %+v", u, h)
		}
	}

	s.Post(b.ID, Peer{Chat: team}, "hi Ann", msg.ID)
	u, _ := next[*tg.UpdateNewMessage](cl.ctx, t, cl.in)
	got := u.Message.(*tg.Message)
	if got.Message != "hi Ann" || got.Out || !reflect.DeepEqual(got.PeerID, &tg.PeerChat{ChatID: team}) ||
		!reflect.DeepEqual(got.FromID, &tg.PeerUser{UserID: b.ID}) || got.ReplyTo.(*tg.MessageReplyHeader).ReplyToMsgID != msg.ID {
		t.Fatalf("pushed = %+v", got)
	}

	// Not a member: refused.
	other := s.AddGroup("Other", b.ID, c.ID)
	_, err = cl.api.MessagesSendMessage(cl.ctx, &tg.MessagesSendMessageRequest{Peer: &tg.InputPeerChat{ChatID: other}, Message: "x", RandomID: 8})
	wantRPCError(t, err, 400, "PEER_ID_INVALID")
}

func TestNotImplemented(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cl := loggedIn(t, s, s.AddUser(ann))
	_, err := cl.api.MessagesGetAllStickers(cl.ctx, 0)
	wantRPCError(t, err, 400, "INPUT_METHOD_INVALID")
}
