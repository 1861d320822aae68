package tguserfake

import (
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// AddGroup creates a basic group (tg.Chat) with members (the first is its
// creator) and returns its id, from 5000001 upward.
func (s *Server) AddGroup(title string, members ...int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := &chat{id: s.nextChatID, title: title, date: time.Now()}
	s.nextChatID++
	for _, m := range uniq(members) {
		if s.users[m] == nil {
			s.log.Error("tguserfake: AddGroup: unknown member", "user", m)
			continue
		}
		ch.members = append(ch.members, m)
	}
	s.chats[ch.id] = ch
	s.log.Info("tguserfake: group added", "chat", ch.id, "title", title)
	return ch.id
}

// renderPeer is p as a tg.Peer.
func renderPeer(p Peer) tg.PeerClass {
	if p.Channel != 0 {
		return &tg.PeerChannel{ChannelID: p.Channel}
	}
	if p.Chat != 0 {
		return &tg.PeerChat{ChatID: p.Chat}
	}
	return &tg.PeerUser{UserID: p.User}
}

// peerRefs are the entities p mentions.
func peerRefs(p Peer) refs {
	if p.Channel != 0 {
		return refs{chats: []int64{p.Channel}}
	}
	if p.Chat != 0 {
		return refs{chats: []int64{p.Chat}}
	}
	return refs{users: []int64{p.User}}
}

// renderChat is a group as a tg.Chat. The caller holds s.mu.
func (s *Server) renderChat(id int64) tg.ChatClass {
	ch := s.chats[id]
	if ch == nil {
		return &tg.ChatEmpty{ID: id}
	}
	return &tg.Chat{
		ID:                ch.id,
		Title:             ch.title,
		Photo:             &tg.ChatPhotoEmpty{},
		ParticipantsCount: len(ch.members),
		Date:              int(ch.date.Unix()),
		Version:           1,
	}
}

// renderChats renders the groups and channels ids as viewer sees them,
// skipping unknown ones. The caller holds s.mu.
func (s *Server) renderChats(viewer int64, ids []int64) []tg.ChatClass {
	out := make([]tg.ChatClass, 0, len(ids))
	for _, id := range ids {
		switch {
		case s.chats[id] != nil:
			out = append(out, s.renderChat(id))
		case s.channels[id] != nil:
			out = append(out, s.renderChannel(viewer, s.channels[id]))
		}
	}
	return out
}

// inputPeer resolves an InputPeer for viewer: a known user (with the right
// access hash), a group viewer is in, or a channel (with its access hash)
// viewer is in. The caller holds s.mu.
func (s *Server) inputPeer(viewer int64, in tg.InputPeerClass) (Peer, error) {
	switch p := in.(type) {
	case *tg.InputPeerSelf:
		return Peer{User: viewer}, nil
	case *tg.InputPeerUser:
		if a := s.users[p.UserID]; a != nil && (a.AccessHash == p.AccessHash || p.UserID == viewer) {
			return Peer{User: p.UserID}, nil
		}
	case *tg.InputPeerUserFromMessage:
		if s.users[p.UserID] != nil {
			return Peer{User: p.UserID}, nil
		}
	case *tg.InputPeerChat:
		if ch := s.chats[p.ChatID]; ch != nil && ch.has(viewer) {
			return Peer{Chat: p.ChatID}, nil
		}
	case *tg.InputPeerChannel:
		ch, err := s.channelOf(viewer, p.ChannelID, p.AccessHash, true)
		if err != nil {
			return Peer{}, err
		}
		return Peer{Channel: ch.id}, nil
	case *tg.InputPeerChannelFromMessage:
		ch, err := s.channelOf(viewer, p.ChannelID, 0, false)
		if err != nil {
			return Peer{}, err
		}
		return Peer{Channel: ch.id}, nil
	}
	return Peer{}, tgerr.New(400, "PEER_ID_INVALID")
}

// messagesGetChats answers messages.getChats for groups the caller is in.
func (s *Server) messagesGetChats(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.MessagesGetChatsRequest, me *account) (bin.Encoder, error) {
		out := &tg.MessagesChats{Chats: []tg.ChatClass{}}
		for _, id := range r.ID {
			if ch := s.chats[id]; ch != nil && ch.has(me.ID) {
				out.Chats = append(out.Chats, s.renderChat(id))
			}
		}
		return out, nil
	})
}

// messagesGetFullChat answers messages.getFullChat with the member list.
func (s *Server) messagesGetFullChat(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.MessagesGetFullChatRequest, me *account) (bin.Encoder, error) {
		ch := s.chats[r.ChatID]
		if ch == nil || !ch.has(me.ID) {
			return nil, tgerr.New(400, "CHAT_ID_INVALID")
		}
		parts := make([]tg.ChatParticipantClass, 0, len(ch.members))
		for i, m := range ch.members {
			if i == 0 {
				parts = append(parts, &tg.ChatParticipantCreator{UserID: m})
				continue
			}
			parts = append(parts, &tg.ChatParticipant{UserID: m, InviterID: ch.members[0], Date: int(ch.date.Unix())})
		}
		return &tg.MessagesChatFull{
			FullChat: &tg.ChatFull{
				ID:             ch.id,
				Participants:   &tg.ChatParticipants{ChatID: ch.id, Participants: parts, Version: 1},
				NotifySettings: tg.PeerNotifySettings{},
			},
			Chats: []tg.ChatClass{s.renderChat(ch.id)},
			Users: s.renderUsers(me.ID, ch.members),
		}, nil
	})
}
