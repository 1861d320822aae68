package tguserfake

import (
	"sort"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// dialogMessages is user's box for peer, oldest first. The caller holds s.mu.
func (s *Server) dialogMessages(user int64, peer Peer) []*message {
	var out []*message
	if peer.Channel != 0 {
		if ch := s.channels[peer.Channel]; ch != nil {
			for _, m := range ch.msgs {
				if m.visibleTo(user) {
					out = append(out, m)
				}
			}
		}
		return out
	}
	for _, m := range s.msgs {
		if m.visibleTo(user) && m.peerFor(user) == peer {
			out = append(out, m)
		}
	}
	return out
}

// unread counts incoming messages in a's dialog peer past its read mark.
func (s *Server) unread(a *account, peer Peer) int {
	n := 0
	for _, m := range s.dialogMessages(a.ID, peer) {
		if m.from != a.ID && m.id > a.readInbox[peer] {
			n++
		}
	}
	return n
}

// unreadTotal counts a's unread messages in every private chat and group
// (not in channels).
func (s *Server) unreadTotal(a *account) int {
	n := 0
	for _, m := range s.msgs {
		if m.from != a.ID && m.visibleTo(a.ID) && m.id > a.readInbox[m.peerFor(a.ID)] {
			n++
		}
	}
	return n
}

// dialog is one entry of a user's dialog list.
type dialog struct {
	peer Peer
	top  *message // nil: a contact, group or channel without messages
}

// peerOrder ranks dialogs without messages: users, groups, channels.
func peerOrder(p Peer) (int, int64) {
	switch {
	case p.Channel != 0:
		return 2, p.Channel
	case p.Chat != 0:
		return 1, p.Chat
	}
	return 0, p.User
}

// dialogs is a's dialog list: every private chat, group and channel with
// a message, newest first, then contacts, groups and channels without
// messages.
func (s *Server) dialogs(a *account) []dialog {
	tops := map[Peer]*message{}
	for _, m := range s.msgs {
		if m.visibleTo(a.ID) {
			tops[m.peerFor(a.ID)] = m // ascending ids: the last one wins
		}
	}
	for id := range a.contacts {
		if _, ok := tops[Peer{User: id}]; !ok {
			tops[Peer{User: id}] = nil
		}
	}
	for id, ch := range s.chats {
		if _, ok := tops[Peer{Chat: id}]; !ok && ch.has(a.ID) {
			tops[Peer{Chat: id}] = nil
		}
	}
	for id, ch := range s.channels {
		if !ch.has(a.ID) {
			continue
		}
		p := Peer{Channel: id}
		tops[p] = nil
		for _, m := range ch.msgs {
			if m.visibleTo(a.ID) {
				tops[p] = m
			}
		}
	}
	out := make([]dialog, 0, len(tops))
	for p, m := range tops {
		out = append(out, dialog{peer: p, top: m})
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		switch {
		case x.top != nil && y.top != nil:
			return x.top.seq > y.top.seq
		case x.top != nil || y.top != nil:
			return x.top != nil
		}
		xk, xid := peerOrder(x.peer)
		yk, yid := peerOrder(y.peer)
		if xk != yk {
			return xk < yk
		}
		return xid < yid
	})
	return out
}

// readOutbox is the highest message of a's in peer that the other side
// has read.
func (s *Server) readOutbox(a *account, peer Peer) int {
	var members []int64
	switch {
	case peer.Channel != 0:
		members = s.channels[peer.Channel].members
	case peer.Chat != 0:
		members = s.chats[peer.Chat].members
	default:
		if o := s.users[peer.User]; o != nil && o.ID != a.ID {
			return o.readInbox[Peer{User: a.ID}]
		}
		return 0
	}
	best := 0
	for _, m := range members {
		if o := s.users[m]; o != nil && m != a.ID {
			best = max(best, o.readInbox[peer])
		}
	}
	return best
}

// renderDialog is d in a's dialog list; a channel's has its pts.
func (s *Server) renderDialog(a *account, d dialog) *tg.Dialog {
	td := &tg.Dialog{
		Peer:            renderPeer(d.peer),
		ReadInboxMaxID:  a.readInbox[d.peer],
		ReadOutboxMaxID: s.readOutbox(a, d.peer),
		UnreadCount:     s.unread(a, d.peer),
		NotifySettings:  tg.PeerNotifySettings{},
	}
	if d.top != nil {
		td.TopMessage = d.top.id
	}
	if ch := s.channels[d.peer.Channel]; ch != nil {
		td.Pts = ch.pts
	}
	return td
}

// messagesGetDialogs answers messages.getDialogs. Pages start after
// offset_peer if it is set, else after offset_id (by top message).
func (s *Server) messagesGetDialogs(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.MessagesGetDialogsRequest, me *account) (bin.Encoder, error) {
		all := s.dialogs(me)
		if r.FolderID != 0 {
			all = nil // nothing is archived
		}
		start := 0
		if off, err := s.inputPeer(me.ID, r.OffsetPeer); err == nil {
			for i, d := range all {
				if d.peer == off {
					start = i + 1
					break
				}
			}
		} else if r.OffsetID > 0 {
			// Dialogs are ordered by when their top message was posted;
			// offset_id is taken as an id of the global sequence.
			before := func(m *message) bool { return m.id < r.OffsetID }
			if om := s.message(r.OffsetID); om != nil {
				before = func(m *message) bool { return m.seq < om.seq }
			}
			start = sort.Search(len(all), func(i int) bool { return all[i].top == nil || before(all[i].top) })
		}
		limit := r.Limit
		if limit <= 0 || limit > 100 {
			limit = 100
		}
		page := all[start:min(start+limit, len(all))]

		var (
			dialogs = []tg.DialogClass{}
			msgs    = []tg.MessageClass{}
			rf      refs
		)
		for _, d := range page {
			rf.add(peerRefs(d.peer))
			if d.top != nil {
				msg, mr := s.renderMessage(me.ID, d.top)
				msgs = append(msgs, msg)
				rf.add(mr)
			}
			dialogs = append(dialogs, s.renderDialog(me, d))
		}
		users := s.renderUsers(me.ID, uniq(append(rf.users, me.ID)))
		chats := s.renderChats(me.ID, uniq(rf.chats))
		if start == 0 && len(page) == len(all) {
			return &tg.MessagesDialogs{Dialogs: dialogs, Messages: msgs, Chats: chats, Users: users}, nil
		}
		return &tg.MessagesDialogsSlice{Count: len(all), Dialogs: dialogs, Messages: msgs, Chats: chats, Users: users}, nil
	})
}

// messagesGetHistory answers messages.getHistory, newest first, with
// offset_id, offset_date, add_offset, limit, max_id and min_id.
func (s *Server) messagesGetHistory(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.MessagesGetHistoryRequest, me *account) (bin.Encoder, error) {
		peer, err := s.inputPeer(me.ID, r.Peer)
		if err != nil {
			return nil, err
		}
		box := s.dialogMessages(me.ID, peer)
		page, start := historyPage(box, r)

		msgs := make([]tg.MessageClass, 0, len(page))
		var rf refs
		for _, m := range page {
			msg, mr := s.renderMessage(me.ID, m)
			msgs = append(msgs, msg)
			rf.add(mr)
		}
		rf.add(peerRefs(peer))
		users := s.renderUsers(me.ID, uniq(append(rf.users, me.ID)))
		chats := s.renderChats(me.ID, uniq(rf.chats))
		if ch := s.channels[peer.Channel]; ch != nil {
			return &tg.MessagesChannelMessages{
				Pts: ch.pts, Count: len(box), OffsetIDOffset: start,
				Messages: msgs, Topics: []tg.ForumTopicClass{}, Chats: chats, Users: users,
			}, nil
		}
		if len(page) == len(box) {
			return &tg.MessagesMessages{Messages: msgs, Chats: chats, Users: users}, nil
		}
		return &tg.MessagesMessagesSlice{Count: len(box), OffsetIDOffset: start, Messages: msgs, Chats: chats, Users: users}, nil
	})
}

// historyPage is the page of box (oldest first) that r asks for, newest
// first, and its offset among the messages within max_id / min_id.
func historyPage(box []*message, r *tg.MessagesGetHistoryRequest) (page []*message, start int) {
	var all []*message // newest first, within max_id / min_id
	for i := len(box) - 1; i >= 0; i-- {
		m := box[i]
		if (r.MaxID > 0 && m.id >= r.MaxID) || (r.MinID > 0 && m.id <= r.MinID) {
			continue
		}
		all = append(all, m)
	}
	switch {
	case r.OffsetID > 0:
		start = sort.Search(len(all), func(i int) bool { return all[i].id < r.OffsetID })
	case r.OffsetDate > 0:
		start = sort.Search(len(all), func(i int) bool { return int(all[i].date.Unix()) < r.OffsetDate })
	}
	start = max(0, min(start+r.AddOffset, len(all)))
	limit := r.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 100)
	return all[start:min(start+limit, len(all))], start
}

// messagesGetMessages answers messages.getMessages by id; messages not in
// the caller's box come back as messageEmpty.
func (s *Server) messagesGetMessages(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.MessagesGetMessagesRequest, me *account) (bin.Encoder, error) {
		msgs := make([]tg.MessageClass, 0, len(r.ID))
		var rf refs
		for _, in := range r.ID {
			id := 0
			if in, ok := in.(*tg.InputMessageID); ok {
				id = in.ID
			}
			m := s.message(id)
			if m == nil || !m.visibleTo(me.ID) {
				msgs = append(msgs, &tg.MessageEmpty{ID: id})
				continue
			}
			msg, mr := s.renderMessage(me.ID, m)
			msgs = append(msgs, msg)
			rf.add(mr)
		}
		return &tg.MessagesMessages{
			Messages: msgs,
			Users:    s.renderUsers(me.ID, uniq(append(rf.users, me.ID))),
			Chats:    s.renderChats(me.ID, uniq(rf.chats)),
		}, nil
	})
}
