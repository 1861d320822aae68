package tguserfake

import (
	"bytes"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
)

// channelHash is the access hash of channel id, as a client learns it from
// a push or getDialogs.
func channelHash(s *Server, id int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels[id].accessHash
}

// inPeer and inChannel name channel id with its access hash.
func inPeer(s *Server, id int64) *tg.InputPeerChannel {
	return &tg.InputPeerChannel{ChannelID: id, AccessHash: channelHash(s, id)}
}

func inChannel(s *Server, id int64) *tg.InputChannel {
	return &tg.InputChannel{ChannelID: id, AccessHash: channelHash(s, id)}
}

// chatsChannel is the channel id in chats, nil if absent.
func chatsChannel(chats []tg.ChatClass, id int64) *tg.Channel {
	for _, c := range chats {
		if c, ok := c.(*tg.Channel); ok && c.ID == id {
			return c
		}
	}
	return nil
}

// texts is the texts of msgs, in order.
func texts(msgs []tg.MessageClass) []string {
	out := []string{}
	for _, m := range msgs {
		if m, ok := m.(*tg.Message); ok {
			out = append(out, m.Message)
		}
	}
	return out
}

func TestSupergroup(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b, c := s.AddUser(ann), s.AddUser(bob), s.AddUser(carol)
	sg := s.AddChannel("Crew", true, a.ID, b.ID)
	if sg != 1500000001 {
		t.Fatalf("channel id = %d", sg)
	}
	peer := Peer{Channel: sg}
	ca, cb := loggedIn(t, s, a), loggedIn(t, s, b)
	stB, err := cb.api.UpdatesGetState(cb.ctx)
	if err != nil {
		t.Fatal(err)
	}

	m1 := s.Post(a.ID, peer, "hello crew", 0)
	if m1.ID != 1 || m1.Peer != peer || m1.From != a.ID {
		t.Fatalf("posted %+v", m1)
	}
	nm, batch := next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	msg := nm.Message.(*tg.Message)
	if msg.ID != 1 || msg.Message != "hello crew" || msg.Out || msg.Post || nm.Pts != 2 || nm.PtsCount != 1 ||
		!reflect.DeepEqual(msg.PeerID, &tg.PeerChannel{ChannelID: sg}) || !reflect.DeepEqual(msg.FromID, &tg.PeerUser{UserID: a.ID}) {
		t.Fatalf("pushed = %+v (pts %d)", msg, nm.Pts)
	}
	ch := chatsChannel(batch.Chats, sg)
	if ch == nil || ch.AccessHash != channelHash(s, sg) || ch.Title != "Crew" || !ch.Megagroup || ch.Broadcast || ch.Creator || ch.Left || ch.Date == 0 {
		t.Fatalf("pushed chats = %+v", batch.Chats)
	}
	// The creator sees their own flags; Ann's Post is pushed to her too.
	anm, abatch := next[*tg.UpdateNewChannelMessage](ca.ctx, t, ca.in)
	if ach := chatsChannel(abatch.Chats, sg); ach == nil || !ach.Creator || !anm.Message.(*tg.Message).Out || anm.Pts != 2 {
		t.Fatalf("Ann's push = %+v / %+v", anm, abatch.Chats)
	}

	// Bob writes through the API: the answer has the message, Ann gets a push.
	res, err := cb.api.MessagesSendMessage(cb.ctx, &tg.MessagesSendMessageRequest{
		Peer: inPeer(s, sg), Message: "hi Ann", RandomID: 11, ReplyTo: &tg.InputReplyToMessage{ReplyToMsgID: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	ups := res.(*tg.Updates)
	idu, ncm := ups.Updates[0].(*tg.UpdateMessageID), ups.Updates[1].(*tg.UpdateNewChannelMessage)
	if idu.ID != 2 || idu.RandomID != 11 || ncm.Pts != 3 || !ncm.Message.(*tg.Message).Out || chatsChannel(ups.Chats, sg) == nil {
		t.Fatalf("sent = %+v %+v", idu, ncm)
	}
	anm, _ = next[*tg.UpdateNewChannelMessage](ca.ctx, t, ca.in)
	if got := anm.Message.(*tg.Message); got.ID != 2 || got.Out || !reflect.DeepEqual(got.FromID, &tg.PeerUser{UserID: b.ID}) ||
		got.ReplyTo.(*tg.MessageReplyHeader).ReplyToMsgID != 1 || anm.Pts != 3 {
		t.Fatalf("Ann got %+v", got)
	}
	quiet[*tg.UpdateNewChannelMessage](t, cb.in, 200*time.Millisecond) // in the answer, not pushed

	// Typing both ways.
	s.Typing(a.ID, peer)
	ty, _ := next[*tg.UpdateChannelUserTyping](cb.ctx, t, cb.in)
	if _, ok := ty.Action.(*tg.SendMessageTypingAction); ty.ChannelID != sg || !reflect.DeepEqual(ty.FromID, &tg.PeerUser{UserID: a.ID}) || !ok {
		t.Fatalf("typing = %+v", ty)
	}
	if _, err := cb.api.MessagesSetTyping(cb.ctx, &tg.MessagesSetTypingRequest{Peer: inPeer(s, sg), Action: &tg.SendMessageTypingAction{}}); err != nil {
		t.Fatal(err)
	}
	ty, _ = next[*tg.UpdateChannelUserTyping](ca.ctx, t, ca.in)
	if !reflect.DeepEqual(ty.FromID, &tg.PeerUser{UserID: b.ID}) || s.TypingSeen(b.ID, peer) != 1 {
		t.Fatalf("typing = %+v, seen %d", ty, s.TypingSeen(b.ID, peer))
	}

	// Edit, react, delete by the test.
	s.EditIn(a.ID, peer, 1, "hello crew!")
	em, _ := next[*tg.UpdateEditChannelMessage](cb.ctx, t, cb.in)
	if e := em.Message.(*tg.Message); e.ID != 1 || e.Message != "hello crew!" || e.EditDate == 0 || em.Pts != 4 {
		t.Fatalf("edit = %+v (pts %d)", e, em.Pts)
	}
	next[*tg.UpdateEditChannelMessage](ca.ctx, t, ca.in) // Ann, a member, gets them too
	s.ReactIn(a.ID, peer, 1, "👍")
	rm, _ := next[*tg.UpdateMessageReactions](cb.ctx, t, cb.in)
	if !reflect.DeepEqual(rm.Peer, &tg.PeerChannel{ChannelID: sg}) || rm.MsgID != 1 || len(rm.Reactions.Results) != 1 {
		t.Fatalf("reactions = %+v", rm)
	}
	next[*tg.UpdateMessageReactions](ca.ctx, t, ca.in)
	s.DeleteIn(a.ID, peer, 1)
	dm, _ := next[*tg.UpdateDeleteChannelMessages](cb.ctx, t, cb.in)
	if dm.ChannelID != sg || !reflect.DeepEqual(dm.Messages, []int{1}) || dm.Pts != 5 || dm.PtsCount != 1 {
		t.Fatalf("delete = %+v", dm)
	}
	next[*tg.UpdateDeleteChannelMessages](ca.ctx, t, ca.in)

	// Bob edits and reacts through the API.
	_, err = cb.api.MessagesEditMessage(cb.ctx, &tg.MessagesEditMessageRequest{Peer: inPeer(s, sg), ID: 2, Message: "hi Ann!"})
	if err != nil {
		t.Fatal(err)
	}
	em, _ = next[*tg.UpdateEditChannelMessage](ca.ctx, t, ca.in)
	if em.Message.(*tg.Message).Message != "hi Ann!" || em.Pts != 6 {
		t.Fatalf("Ann got edit %+v", em)
	}
	_, err = cb.api.MessagesEditMessage(cb.ctx, &tg.MessagesEditMessageRequest{Peer: inPeer(s, sg), ID: 2, Message: "hi Ann!"})
	wantRPCError(t, err, 400, "MESSAGE_NOT_MODIFIED")
	if _, err := cb.api.MessagesSendReaction(cb.ctx, &tg.MessagesSendReactionRequest{
		Peer: inPeer(s, sg), MsgID: 2, Reaction: []tg.ReactionClass{&tg.ReactionEmoji{Emoticon: "❤"}},
	}); err != nil {
		t.Fatal(err)
	}
	rm, _ = next[*tg.UpdateMessageReactions](ca.ctx, t, ca.in)
	if rm.MsgID != 2 || !reflect.DeepEqual(rm.Peer, &tg.PeerChannel{ChannelID: sg}) {
		t.Fatalf("Ann got reactions %+v", rm)
	}
	s.Post(a.ID, peer, "mine", 0)
	_, err = cb.api.MessagesEditMessage(cb.ctx, &tg.MessagesEditMessageRequest{Peer: inPeer(s, sg), ID: 3, Message: "not mine"})
	wantRPCError(t, err, 403, "MESSAGE_AUTHOR_REQUIRED")
	_, err = cb.api.ChannelsDeleteMessages(cb.ctx, &tg.ChannelsDeleteMessagesRequest{Channel: inChannel(s, sg), ID: []int{3}})
	wantRPCError(t, err, 403, "MESSAGE_DELETE_FORBIDDEN")

	hist := s.History(b.ID, peer)
	if len(hist) != 2 || hist[0].ID != 2 || hist[0].Text != "hi Ann!" || hist[1].ID != 3 {
		t.Fatalf("History = %+v", hist)
	}
	sent := s.Sent(b.ID)
	if len(sent) != 1 || sent[0].ID != 2 || sent[0].Peer != peer || !sent[0].Edited ||
		!reflect.DeepEqual(sent[0].Reactions, map[int64][]string{b.ID: {"❤"}}) {
		t.Fatalf("Sent = %+v", sent)
	}

	// Channel updates are not in the user's own log.
	stB2, err := cb.api.UpdatesGetState(cb.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stB2.Pts != stB.Pts {
		t.Fatalf("user pts moved: %d → %d", stB.Pts, stB2.Pts)
	}
	diff, err := cb.api.UpdatesGetDifference(cb.ctx, &tg.UpdatesGetDifferenceRequest{Pts: stB.Pts})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := diff.(*tg.UpdatesDifferenceEmpty); !ok {
		t.Fatalf("difference = %+v", diff)
	}

	// Not a member; a wrong access hash.
	cc := loggedIn(t, s, c)
	_, err = cc.api.MessagesGetHistory(cc.ctx, &tg.MessagesGetHistoryRequest{Peer: inPeer(s, sg), Limit: 10})
	wantRPCError(t, err, 400, "CHANNEL_PRIVATE")
	_, err = cc.api.MessagesSendMessage(cc.ctx, &tg.MessagesSendMessageRequest{Peer: inPeer(s, sg), Message: "let me in", RandomID: 1})
	wantRPCError(t, err, 400, "CHANNEL_PRIVATE")
	_, err = cc.api.UpdatesGetChannelDifference(cc.ctx, &tg.UpdatesGetChannelDifferenceRequest{
		Channel: inChannel(s, sg), Filter: &tg.ChannelMessagesFilterEmpty{}, Pts: 1, Limit: 10,
	})
	wantRPCError(t, err, 400, "CHANNEL_PRIVATE")
	_, err = cb.api.MessagesGetHistory(cb.ctx, &tg.MessagesGetHistoryRequest{
		Peer: &tg.InputPeerChannel{ChannelID: sg, AccessHash: channelHash(s, sg) + 1}, Limit: 10,
	})
	wantRPCError(t, err, 400, "CHANNEL_INVALID")
	_, err = cb.api.ChannelsGetChannels(cb.ctx, []tg.InputChannelClass{&tg.InputChannel{ChannelID: sg + 1, AccessHash: 1}})
	wantRPCError(t, err, 400, "CHANNEL_INVALID")
	if m := s.Post(c.ID, peer, "outsider", 0); m.ID != 0 {
		t.Fatalf("non-member posted %+v", m)
	}
}

func TestBroadcastChannel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	news := s.AddChannel("News", false, a.ID, b.ID)
	peer := Peer{Channel: news}
	ca, cb := loggedIn(t, s, a), loggedIn(t, s, b)

	// Only the creator posts.
	_, err := cb.api.MessagesSendMessage(cb.ctx, &tg.MessagesSendMessageRequest{Peer: inPeer(s, news), Message: "me too", RandomID: 1})
	wantRPCError(t, err, 403, "CHAT_WRITE_FORBIDDEN")
	if m := s.Post(b.ID, peer, "me too", 0); m.ID != 0 {
		t.Fatalf("member posted %+v", m)
	}

	m := s.Post(a.ID, peer, "breaking", 0)
	nm, batch := next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	msg := nm.Message.(*tg.Message)
	if msg.ID != m.ID || m.ID != 1 || !msg.Post || msg.FromID != nil || msg.Out || nm.Pts != 2 ||
		!reflect.DeepEqual(msg.PeerID, &tg.PeerChannel{ChannelID: news}) {
		t.Fatalf("post = %+v", msg)
	}
	if ch := chatsChannel(batch.Chats, news); ch == nil || !ch.Broadcast || ch.Megagroup || ch.Creator {
		t.Fatalf("chats = %+v", batch.Chats)
	}

	res, err := ca.api.MessagesSendMessage(ca.ctx, &tg.MessagesSendMessageRequest{Peer: inPeer(s, news), Message: "more", RandomID: 2})
	if err != nil {
		t.Fatal(err)
	}
	ups := res.(*tg.Updates)
	own := ups.Updates[1].(*tg.UpdateNewChannelMessage).Message.(*tg.Message)
	if own.ID != 2 || !own.Out || !own.Post || own.FromID != nil {
		t.Fatalf("creator's post = %+v", own)
	}
	if ch := chatsChannel(ups.Chats, news); ch == nil || !ch.Creator || !ch.AdminRights.PostMessages {
		t.Fatalf("creator's chats = %+v", ups.Chats)
	}
	nm, _ = next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	if nm.Message.(*tg.Message).Message != "more" || nm.Pts != 3 {
		t.Fatalf("Bob got %+v", nm)
	}

	_, err = cb.api.ChannelsDeleteMessages(cb.ctx, &tg.ChannelsDeleteMessagesRequest{Channel: inChannel(s, news), ID: []int{1}})
	wantRPCError(t, err, 403, "MESSAGE_DELETE_FORBIDDEN")
	aff, err := ca.api.ChannelsDeleteMessages(ca.ctx, &tg.ChannelsDeleteMessagesRequest{Channel: inChannel(s, news), ID: []int{1, 2, 99}})
	if err != nil {
		t.Fatal(err)
	}
	if aff.Pts != 5 || aff.PtsCount != 2 {
		t.Fatalf("affected = %+v", aff)
	}
	dm, _ := next[*tg.UpdateDeleteChannelMessages](cb.ctx, t, cb.in)
	if !reflect.DeepEqual(dm.Messages, []int{1, 2}) || dm.Pts != 5 || dm.PtsCount != 2 {
		t.Fatalf("delete = %+v", dm)
	}
	quiet[*tg.UpdateDeleteChannelMessages](t, ca.in, 200*time.Millisecond) // in the answer
	if h := s.History(b.ID, peer); len(h) != 0 {
		t.Fatalf("History = %+v", h)
	}
	// Nothing left to delete: the pts stays.
	aff, err = ca.api.ChannelsDeleteMessages(ca.ctx, &tg.ChannelsDeleteMessagesRequest{Channel: inChannel(s, news), ID: []int{1}})
	if err != nil || aff.Pts != 5 || aff.PtsCount != 0 {
		t.Fatalf("affected = %+v, %v", aff, err)
	}
}

func TestChannelDifference(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	sg := s.AddChannel("Crew", true, a.ID, b.ID)
	peer := Peer{Channel: sg}
	cb := loggedIn(t, s, b)
	diff := func(pts, limit int) tg.UpdatesChannelDifferenceClass {
		t.Helper()
		d, err := cb.api.UpdatesGetChannelDifference(cb.ctx, &tg.UpdatesGetChannelDifferenceRequest{
			Channel: inChannel(s, sg), Filter: &tg.ChannelMessagesFilterEmpty{}, Pts: pts, Limit: limit,
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d, ok := diff(1, 100).(*tg.UpdatesChannelDifferenceEmpty); !ok || !d.Final || d.Pts != 1 {
		t.Fatalf("empty channel = %+v", d)
	}

	s.Hold(b.ID, true)
	s.Post(a.ID, peer, "one", 0)   // pts 2
	s.Post(a.ID, peer, "two", 0)   // pts 3
	s.Post(a.ID, peer, "three", 0) // pts 4
	s.EditIn(a.ID, peer, 1, "one!")
	s.DeleteIn(a.ID, peer, 3) // pts 6
	quiet[*tg.UpdateNewChannelMessage](t, cb.in, 300*time.Millisecond)

	d := diff(1, 100).(*tg.UpdatesChannelDifference)
	if !d.Final || d.Pts != 6 || !reflect.DeepEqual(texts(d.NewMessages), []string{"one!", "two"}) || len(d.OtherUpdates) != 2 {
		t.Fatalf("difference = %+v", d)
	}
	if e := d.OtherUpdates[0].(*tg.UpdateEditChannelMessage); e.Pts != 5 || e.Message.(*tg.Message).ID != 1 {
		t.Fatalf("edit = %+v", e)
	}
	if e := d.OtherUpdates[1].(*tg.UpdateDeleteChannelMessages); e.ChannelID != sg || e.Pts != 6 || !reflect.DeepEqual(e.Messages, []int{3}) {
		t.Fatalf("delete = %+v", e)
	}
	if chatsChannel(d.Chats, sg) == nil || len(d.Users) != 2 {
		t.Fatalf("difference refs = %+v / %+v", d.Chats, d.Users)
	}

	// In slices of two entries.
	d = diff(1, 2).(*tg.UpdatesChannelDifference)
	if d.Final || d.Pts != 3 || !reflect.DeepEqual(texts(d.NewMessages), []string{"one!", "two"}) || len(d.OtherUpdates) != 0 {
		t.Fatalf("slice 1 = %+v", d)
	}
	d = diff(d.Pts, 2).(*tg.UpdatesChannelDifference)
	if d.Final || d.Pts != 5 || len(d.NewMessages) != 0 || len(d.OtherUpdates) != 1 {
		t.Fatalf("slice 2 = %+v", d)
	}
	d = diff(d.Pts, 2).(*tg.UpdatesChannelDifference)
	if !d.Final || d.Pts != 6 || len(d.OtherUpdates) != 1 {
		t.Fatalf("slice 3 = %+v", d)
	}
	if d, ok := diff(6, 2).(*tg.UpdatesChannelDifferenceEmpty); !ok || !d.Final || d.Pts != 6 {
		t.Fatalf("up to date = %+v", d)
	}
	_, err := cb.api.UpdatesGetChannelDifference(cb.ctx, &tg.UpdatesGetChannelDifferenceRequest{
		Channel: inChannel(s, sg), Filter: &tg.ChannelMessagesFilterEmpty{}, Pts: 0, Limit: 10,
	})
	wantRPCError(t, err, 400, "PERSISTENT_TIMESTAMP_INVALID")

	s.Hold(b.ID, false)
	s.Post(a.ID, peer, "four", 0)
	nm, _ := next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	if nm.Pts != 7 || nm.Message.(*tg.Message).ID != 4 {
		t.Fatalf("after hold = %+v", nm)
	}

	// ChannelTooLong: the next call (only) answers TooLong.
	s.ChannelTooLong(sg)
	tl := diff(6, 100).(*tg.UpdatesChannelDifferenceTooLong)
	dl := tl.Dialog.(*tg.Dialog)
	if !tl.Final || dl.Pts != 7 || dl.TopMessage != 4 || !reflect.DeepEqual(dl.Peer, &tg.PeerChannel{ChannelID: sg}) ||
		!reflect.DeepEqual(texts(tl.Messages), []string{"four", "two", "one!"}) || chatsChannel(tl.Chats, sg) == nil {
		t.Fatalf("too long = %+v / %+v", tl, dl)
	}
	if d := diff(6, 100).(*tg.UpdatesChannelDifference); !reflect.DeepEqual(texts(d.NewMessages), []string{"four"}) {
		t.Fatalf("after too long = %+v", d)
	}

	// More than 1000 behind: TooLong with the 20 newest; a limit is capped at 100.
	s.Hold(b.ID, true)
	for range 1000 {
		s.Post(a.ID, peer, "spam", 0)
	}
	tl = diff(6, 100).(*tg.UpdatesChannelDifferenceTooLong)
	if tl.Dialog.(*tg.Dialog).Pts != 1007 || len(tl.Messages) != 20 || tl.Messages[0].(*tg.Message).ID != 1004 {
		t.Fatalf("too long: pts %d, %d messages", tl.Dialog.(*tg.Dialog).Pts, len(tl.Messages))
	}
	d = diff(7, 500).(*tg.UpdatesChannelDifference)
	if d.Final || d.Pts != 107 || len(d.NewMessages) != 100 {
		t.Fatalf("capped: final %v, pts %d, %d messages", d.Final, d.Pts, len(d.NewMessages))
	}
}

func TestChannelIDsCollide(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	one := s.AddChannel("One", true, a.ID, b.ID)
	two := s.AddChannel("Two", false, b.ID, a.ID)
	dm := s.Post(b.ID, Peer{User: a.ID}, "private", 0)
	m1 := s.Post(b.ID, Peer{Channel: one}, "in one", 0)
	m2 := s.Post(b.ID, Peer{Channel: two}, "in two", 0)
	if dm.ID != 1 || m1.ID != 1 || m2.ID != 1 || m1.Peer != (Peer{Channel: one}) || m2.Peer != (Peer{Channel: two}) {
		t.Fatalf("ids: %+v %+v %+v", dm, m1, m2)
	}
	cl := loggedIn(t, s, a)

	for _, tc := range []struct {
		in   tg.InputPeerClass
		want string
	}{
		{&tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}, "private"},
		{inPeer(s, one), "in one"},
		{inPeer(s, two), "in two"},
	} {
		res, err := cl.api.MessagesGetHistory(cl.ctx, &tg.MessagesGetHistoryRequest{Peer: tc.in, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := res.AsModified()
		if got := texts(msgs.GetMessages()); !reflect.DeepEqual(got, []string{tc.want}) {
			t.Fatalf("history of %+v = %q", tc.in, got)
		}
		if _, isChannel := tc.in.(*tg.InputPeerChannel); isChannel {
			if cm, ok := res.(*tg.MessagesChannelMessages); !ok || cm.Pts != 2 || cm.Count != 1 {
				t.Fatalf("channel history = %+v", res)
			}
		}
	}

	got, err := cl.api.ChannelsGetMessages(cl.ctx, &tg.ChannelsGetMessagesRequest{
		Channel: inChannel(s, one), ID: []tg.InputMessageClass{&tg.InputMessageID{ID: 1}, &tg.InputMessageID{ID: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cm := got.(*tg.MessagesChannelMessages)
	if cm.Pts != 2 || len(cm.Messages) != 2 || cm.Messages[0].(*tg.Message).Message != "in one" || chatsChannel(cm.Chats, one) == nil {
		t.Fatalf("channels.getMessages = %+v", cm)
	}
	if e, ok := cm.Messages[1].(*tg.MessageEmpty); !ok || e.ID != 2 {
		t.Fatalf("missing message = %+v", cm.Messages[1])
	}
	pm, err := cl.api.MessagesGetMessages(cl.ctx, []tg.InputMessageClass{&tg.InputMessageID{ID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(pm.(*tg.MessagesMessages).Messages); !reflect.DeepEqual(got, []string{"private"}) {
		t.Fatalf("messages.getMessages = %q", got)
	}

	// Ann writes in One; editing, reacting and deleting id 1 there leave
	// the others alone.
	if _, err := cl.api.MessagesSendMessage(cl.ctx, &tg.MessagesSendMessageRequest{Peer: inPeer(s, one), Message: "mine", RandomID: 1}); err != nil {
		t.Fatal(err)
	}
	s.EditIn(b.ID, Peer{Channel: one}, 1, "in one!")
	s.ReactIn(a.ID, Peer{Channel: two}, 1, "🔥")
	if _, err := cl.api.ChannelsDeleteMessages(cl.ctx, &tg.ChannelsDeleteMessagesRequest{Channel: inChannel(s, one), ID: []int{2}}); err != nil {
		t.Fatal(err)
	}
	if h := s.History(a.ID, Peer{User: b.ID}); len(h) != 1 || h[0].Text != "private" || h[0].Edited || h[0].Reactions != nil {
		t.Fatalf("private = %+v", h)
	}
	if h := s.History(a.ID, Peer{Channel: one}); len(h) != 1 || h[0].Text != "in one!" || h[0].Reactions != nil {
		t.Fatalf("one = %+v", h)
	}
	if h := s.History(a.ID, Peer{Channel: two}); len(h) != 1 || h[0].Text != "in two" ||
		!reflect.DeepEqual(h[0].Reactions, map[int64][]string{a.ID: {"🔥"}}) {
		t.Fatalf("two = %+v", h)
	}
	if sent := s.Sent(a.ID); len(sent) != 1 || sent[0].ID != 2 || sent[0].Peer != (Peer{Channel: one}) || !sent[0].Deleted {
		t.Fatalf("Sent = %+v", sent)
	}

	// getDialogs: the channels with their pts, by last activity.
	s.Post(b.ID, Peer{User: a.ID}, "latest", 0)
	res, err := cl.api.MessagesGetDialogs(cl.ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	ds := res.(*tg.MessagesDialogs)
	type row struct {
		peer         tg.PeerClass
		top, pts, un int
	}
	var rows []row
	for _, d := range ds.Dialogs {
		d := d.(*tg.Dialog)
		rows = append(rows, row{d.Peer, d.TopMessage, d.Pts, d.UnreadCount})
	}
	want := []row{
		{&tg.PeerUser{UserID: b.ID}, 2, 0, 2},
		{&tg.PeerChannel{ChannelID: two}, 1, 2, 1},
		{&tg.PeerChannel{ChannelID: one}, 1, 5, 1},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("dialogs = %+v", rows)
	}
	if len(ds.Messages) != 3 || chatsChannel(ds.Chats, one) == nil || chatsChannel(ds.Chats, two) == nil {
		t.Fatalf("dialog refs = %+v / %+v", ds.Messages, ds.Chats)
	}
	if ch := chatsChannel(ds.Chats, two); !ch.Broadcast || ch.AccessHash != channelHash(s, two) {
		t.Fatalf("channel two = %+v", ch)
	}

	// channels.readHistory; channels.getChannels.
	ok, err := cl.api.ChannelsReadHistory(cl.ctx, &tg.ChannelsReadHistoryRequest{Channel: inChannel(s, one), MaxID: 1})
	if err != nil || !ok {
		t.Fatalf("readHistory = %v, %v", ok, err)
	}
	if got := s.ReadUpTo(a.ID, Peer{Channel: one}); got != 1 {
		t.Fatalf("ReadUpTo = %d", got)
	}
	res, err = cl.api.MessagesGetDialogs(cl.ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.(*tg.MessagesDialogs).Dialogs[2].(*tg.Dialog); d.UnreadCount != 0 || d.ReadInboxMaxID != 1 {
		t.Fatalf("read dialog = %+v", d)
	}
	_, err = cl.api.MessagesReadHistory(cl.ctx, &tg.MessagesReadHistoryRequest{Peer: inPeer(s, one)})
	wantRPCError(t, err, 400, "PEER_ID_INVALID")
	chats, err := cl.api.ChannelsGetChannels(cl.ctx, []tg.InputChannelClass{inChannel(s, two), inChannel(s, one)})
	if err != nil {
		t.Fatal(err)
	}
	cs := chats.GetChats()
	if len(cs) != 2 || cs[0].(*tg.Channel).ID != two || cs[0].(*tg.Channel).Title != "Two" || !cs[1].(*tg.Channel).Creator {
		t.Fatalf("getChannels = %+v", cs)
	}
}

func TestChannelRandomIDAndMedia(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	sg := s.AddChannel("Crew", true, a.ID, b.ID)
	other := s.AddChannel("Other", true, a.ID)
	ca, cb := loggedIn(t, s, a), loggedIn(t, s, b)

	send := func(in tg.InputPeerClass, text string) *tg.Updates {
		t.Helper()
		res, err := ca.api.MessagesSendMessage(ca.ctx, &tg.MessagesSendMessageRequest{Peer: in, Message: text, RandomID: 77})
		if err != nil {
			t.Fatal(err)
		}
		return res.(*tg.Updates)
	}
	first, again := send(inPeer(s, sg), "once"), send(inPeer(s, sg), "once")
	f, g := first.Updates[1].(*tg.UpdateNewChannelMessage), again.Updates[1].(*tg.UpdateNewChannelMessage)
	if first.Updates[0].(*tg.UpdateMessageID).ID != 1 || again.Updates[0].(*tg.UpdateMessageID).ID != 1 || f.Pts != 2 || g.Pts != 2 {
		t.Fatalf("resend = %+v / %+v", first.Updates, again.Updates)
	}
	if h := s.History(b.ID, Peer{Channel: sg}); len(h) != 1 {
		t.Fatalf("History = %+v", h)
	}
	// The same random_id in another channel is another message.
	if u := send(inPeer(s, other), "elsewhere").Updates[0].(*tg.UpdateMessageID); u.ID != 1 || len(s.History(a.ID, Peer{Channel: other})) != 1 {
		t.Fatalf("other channel = %+v", u)
	}
	next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)

	// Media: a posted photo and an uploaded document, both downloadable by a member.
	pic := testJPEG(t, 8, 6)
	s.PostMedia(a.ID, Peer{Channel: sg}, "look", File{Name: "pic.jpg", MIME: "image/jpeg", Data: pic})
	nm, _ := next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	photo := nm.Message.(*tg.Message).Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
	if got := download(t, cb, &tg.InputPhotoFileLocation{
		ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: "x",
	}); !bytes.Equal(got, pic) {
		t.Fatal("photo differs")
	}
	data := []byte("channel document")
	if _, err := ca.api.UploadSaveFilePart(ca.ctx, &tg.UploadSaveFilePartRequest{FileID: 5, FilePart: 0, Bytes: data}); err != nil {
		t.Fatal(err)
	}
	res, err := ca.api.MessagesSendMedia(ca.ctx, &tg.MessagesSendMediaRequest{
		Peer:     inPeer(s, sg),
		Media:    &tg.InputMediaUploadedDocument{File: &tg.InputFile{ID: 5, Parts: 1, Name: "a.txt"}, MimeType: "text/plain"},
		Message:  "doc",
		RandomID: 78,
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := res.(*tg.Updates).Updates[0].(*tg.UpdateMessageID); u.ID != 3 {
		t.Fatalf("media id = %d", u.ID)
	}
	nm, _ = next[*tg.UpdateNewChannelMessage](cb.ctx, t, cb.in)
	doc := nm.Message.(*tg.Message).Media.(*tg.MessageMediaDocument).Document.(*tg.Document)
	if got := download(t, cb, &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}); !bytes.Equal(got, data) {
		t.Fatalf("document = %q", got)
	}
	if sent := s.Sent(a.ID); len(sent) != 3 || sent[2].Media == nil || sent[2].Media.Name != "a.txt" || sent[2].Peer != (Peer{Channel: sg}) {
		t.Fatalf("Sent = %+v", sent)
	}
}

// TestGotdUpdatesManagerChannel runs gotd's update manager against a
// channel: it learns the channel from a push, and fills a held channel
// update's pts gap with getChannelDifference.
func TestGotdUpdatesManagerChannel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	sg := s.AddChannel("Crew", true, a.ID, b.ID)
	peer := Peer{Channel: sg}
	in := newInbox()
	m := updates.New(updates.Config{Handler: in})
	cl, _ := startClientWith(t, s, &session.StorageMemory{}, m, in)
	self := login(t, s, cl, b.Phone, "")

	runManager(t, cl, m, self.ID)

	got := func(n int) []string {
		t.Helper()
		var out []string
		for len(out) < n {
			nm, _ := next[*tg.UpdateNewChannelMessage](cl.ctx, t, in)
			out = append(out, nm.Message.(*tg.Message).Message)
		}
		sort.Strings(out)
		return out
	}
	s.Post(a.ID, peer, "one", 0)
	if g := got(1); !reflect.DeepEqual(g, []string{"one"}) {
		t.Fatalf("got %q", g)
	}
	s.Hold(b.ID, true)
	s.Post(a.ID, peer, "two", 0)
	s.Hold(b.ID, false)
	s.Post(a.ID, peer, "three", 0)
	if g := got(2); !reflect.DeepEqual(g, []string{"three", "two"}) {
		t.Fatalf("got %q", g)
	}
	quiet[*tg.UpdateNewChannelMessage](t, in, 700*time.Millisecond) // no duplicates
}
