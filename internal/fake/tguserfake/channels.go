package tguserfake

import (
	"slices"
	"sort"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

const (
	// channelTooLongGap is how far behind the channel's pts a
	// getChannelDifference may start before it is answered TooLong.
	channelTooLongGap = 1000
	// channelTooLongMessages is how many of the newest messages a TooLong
	// answer carries.
	channelTooLongMessages = 20
)

var (
	errChannelInvalid = tgerr.New(400, "CHANNEL_INVALID")
	errChannelPrivate = tgerr.New(400, "CHANNEL_PRIVATE")
)

// AddChannel creates a broadcast channel (megagroup false) or a supergroup
// (megagroup true) with creator and members (the creator is one) and
// returns its id, from 1500000001 upward; 0 if creator is unknown. Its
// message ids and pts are its own.
func (s *Server) AddChannel(title string, megagroup bool, creator int64, members ...int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[creator] == nil {
		s.log.Error("tguserfake: AddChannel: unknown creator", "user", creator)
		return 0
	}
	ch := &channel{
		id: s.nextChanID, accessHash: randInt63(), title: title, megagroup: megagroup,
		creator: creator, date: time.Now(), pts: 1, randomIDs: map[sentKey]int{},
	}
	s.nextChanID++
	for _, m := range uniq(append([]int64{creator}, members...)) {
		if s.users[m] == nil {
			s.log.Error("tguserfake: AddChannel: unknown member", "user", m)
			continue
		}
		ch.members = append(ch.members, m)
	}
	s.channels[ch.id] = ch
	s.log.Info("tguserfake: channel added", "channel", ch.id, "title", title, "megagroup", megagroup)
	return ch.id
}

// ChannelTooLong makes the next updates.getChannelDifference of channel,
// by anyone, answer updates.channelDifferenceTooLong.
func (s *Server) ChannelTooLong(channel int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[channel]; ch != nil {
		ch.tooLong = true
	}
}

// EditIn is Edit naming the chat, so it also edits channel messages
// (pushed as UpdateEditChannelMessage to every member).
func (s *Server) EditIn(by int64, peer Peer, id int, text string) {
	if peer.Channel == 0 {
		s.Edit(by, id, text)
		return
	}
	s.change(func(t *tx) {
		ch, err := s.channelOf(by, peer.Channel, 0, false)
		if err == nil {
			_, _, err = t.editChannel(by, ch, id, text, nil)
		}
		if err != nil {
			s.log.Error("tguserfake: EditIn", "by", by, "peer", peer, "id", id, "err", err)
		}
	})
}

// DeleteIn is Delete naming the chat, so it also deletes channel messages
// (for everyone, pushed as UpdateDeleteChannelMessages). In a channel only
// the author or the creator may delete a message.
func (s *Server) DeleteIn(by int64, peer Peer, ids ...int) {
	if peer.Channel == 0 {
		s.Delete(by, ids...)
		return
	}
	s.change(func(t *tx) {
		ch, err := s.channelOf(by, peer.Channel, 0, false)
		if err == nil {
			_, err = t.deleteChannel(by, ch, ids, nil)
		}
		if err != nil {
			s.log.Error("tguserfake: DeleteIn", "by", by, "peer", peer, "ids", ids, "err", err)
		}
	})
}

// ReactIn is React naming the chat, so it also reacts to channel messages.
func (s *Server) ReactIn(by int64, peer Peer, id int, emoticons ...string) {
	if peer.Channel == 0 {
		s.React(by, id, emoticons...)
		return
	}
	s.change(func(t *tx) {
		ch, err := s.channelOf(by, peer.Channel, 0, false)
		if err == nil {
			_, err = t.reactChannel(by, ch, id, emoticons, nil)
		}
		if err != nil {
			s.log.Error("tguserfake: ReactIn", "by", by, "peer", peer, "id", id, "err", err)
		}
	})
}

// channelOf is channel id for viewer: CHANNEL_INVALID if it is unknown or
// (with checkHash) hash is wrong, CHANNEL_PRIVATE if viewer is not a
// member. The caller holds s.mu.
func (s *Server) channelOf(viewer, id, hash int64, checkHash bool) (*channel, error) {
	ch := s.channels[id]
	if ch == nil || (checkHash && ch.accessHash != hash) {
		return nil, errChannelInvalid
	}
	if !ch.has(viewer) {
		return nil, errChannelPrivate
	}
	return ch, nil
}

// inputChannel resolves an InputChannel for viewer. The caller holds s.mu.
func (s *Server) inputChannel(viewer int64, in tg.InputChannelClass) (*channel, error) {
	switch c := in.(type) {
	case *tg.InputChannel:
		return s.channelOf(viewer, c.ChannelID, c.AccessHash, true)
	case *tg.InputChannelFromMessage:
		return s.channelOf(viewer, c.ChannelID, 0, false)
	}
	return nil, errChannelInvalid
}

// isChannelInput reports whether in names a channel.
func isChannelInput(in tg.InputPeerClass) bool {
	switch in.(type) {
	case *tg.InputPeerChannel, *tg.InputPeerChannelFromMessage:
		return true
	}
	return false
}

// canPost reports why user may not post in ch, nil if they may.
func (ch *channel) canPost(user int64) error {
	if !ch.has(user) {
		return errChannelPrivate
	}
	if !ch.megagroup && user != ch.creator {
		return tgerr.New(403, "CHAT_WRITE_FORBIDDEN")
	}
	return nil
}

// renderChannel is ch as viewer sees it. The caller holds s.mu.
func (s *Server) renderChannel(viewer int64, ch *channel) *tg.Channel {
	out := &tg.Channel{
		ID:                ch.id,
		AccessHash:        ch.accessHash,
		Title:             ch.title,
		Photo:             &tg.ChatPhotoEmpty{},
		Date:              int(ch.date.Unix()),
		Broadcast:         !ch.megagroup,
		Megagroup:         ch.megagroup,
		Creator:           viewer == ch.creator,
		Left:              !ch.has(viewer),
		ParticipantsCount: len(ch.members),
	}
	if out.Creator {
		out.AdminRights = tg.ChatAdminRights{
			ChangeInfo: true, PostMessages: !ch.megagroup, EditMessages: !ch.megagroup, DeleteMessages: true,
			BanUsers: true, InviteUsers: true, PinMessages: true, AddAdmins: true, ManageCall: true, Other: true,
		}
	}
	return out
}

// postChannel stores a new message in ch and records and pushes it to
// every member. via is the call that sent it (its auth key gets the
// message in the answer, not as a push), nil for Post.
func (t *tx) postChannel(from int64, ch *channel, text string, replyTo int, md *media, via *call, randomID int64) (*message, error) {
	s := t.s
	if err := ch.canPost(from); err != nil {
		return nil, err
	}
	if r := ch.message(replyTo); r == nil || !r.visibleTo(from) {
		replyTo = 0
	}
	s.posted++
	m := &message{
		id: len(ch.msgs) + 1, seq: s.posted, from: from, to: Peer{Channel: ch.id}, text: text, replyTo: replyTo,
		date: time.Now(), media: md, owners: slices.Clone(ch.members), viaAPI: via != nil, randomID: randomID,
	}
	ch.msgs = append(ch.msgs, m)
	e := t.recordChannel(ch, from, via, entry{kind: entryNewMessage, ptsCount: 1, msgID: m.id})
	m.senderPts = e.pts
	if via != nil {
		ch.randomIDs[sentKey{user: from, randomID: randomID}] = m.id
	}
	return m, nil
}

// recordChannel appends e to ch's log, advancing its pts by e.ptsCount,
// and pushes it to every member; by's sessions of via's auth key get none.
func (t *tx) recordChannel(ch *channel, by int64, via *call, e entry) entry {
	ch.pts += e.ptsCount
	e.pts = ch.pts
	if e.date.IsZero() {
		e.date = time.Now()
	}
	ch.log = append(ch.log, e)
	for _, m := range ch.members {
		var except [8]byte
		if via != nil && m == by {
			except = via.key
		}
		u, r := t.s.renderChannelEntry(m, ch, &e)
		t.push(m, except, u, r)
	}
	return e
}

// renderChannelEntry is an entry of ch's log as a fresh tg update for
// viewer. The caller holds s.mu.
func (s *Server) renderChannelEntry(viewer int64, ch *channel, e *entry) (tg.UpdateClass, refs) {
	switch e.kind {
	case entryNewMessage, entryEditMessage:
		msg, r := s.renderMessage(viewer, ch.message(e.msgID))
		if e.kind == entryNewMessage {
			return &tg.UpdateNewChannelMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}, r
		}
		return &tg.UpdateEditChannelMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}, r
	default: // entryDeleteMessages
		return &tg.UpdateDeleteChannelMessages{
			ChannelID: ch.id, Messages: slices.Clone(e.ids), Pts: e.pts, PtsCount: e.ptsCount,
		}, refs{chats: []int64{ch.id}}
	}
}

// channelSentUpdates is the answer to sendMessage / sendMedia in a
// channel for m.
func (s *Server) channelSentUpdates(me *account, m *message) *tg.Updates {
	msg, r := s.renderMessage(me.ID, m)
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: m.id, RandomID: m.randomID},
			&tg.UpdateNewChannelMessage{Message: msg, Pts: m.senderPts, PtsCount: 1},
		},
		Users: s.renderUsers(me.ID, uniq(append(r.users, me.ID))),
		Chats: s.renderChats(me.ID, uniq(r.chats)),
		Date:  int(time.Now().Unix()),
	}
}

// sendToChannel is messages.sendMessage (media nil) or sendMedia to the
// channel in. A random_id the caller already sent there returns the first
// message again.
func (s *Server) sendToChannel(c *call, in tg.InputPeerClass, randomID int64, text string, caption bool, replyTo int, inMedia tg.InputMediaClass) (bin.Encoder, error) {
	return s.changeIn(c, in, func(t *tx, me *account, peer Peer) (bin.Encoder, error) {
		ch := s.channels[peer.Channel]
		if id, ok := ch.randomIDs[sentKey{user: me.ID, randomID: randomID}]; ok {
			return s.channelSentUpdates(me, ch.message(id)), nil
		}
		if err := ch.canPost(me.ID); err != nil {
			return nil, err
		}
		if err := checkText(text, caption); err != nil {
			return nil, err
		}
		var md *media
		if inMedia != nil {
			var err error
			if md, err = s.inputMedia(me.ID, inMedia); err != nil {
				return nil, err
			}
		}
		m, err := t.postChannel(me.ID, ch, text, replyTo, md, c, randomID)
		if err != nil {
			return nil, err
		}
		return s.channelSentUpdates(me, m), nil
	})
}

// editChannel changes the text of ch's message id for its author by and
// returns the channel's entry. via's auth key gets no push.
func (t *tx) editChannel(by int64, ch *channel, id int, text string, via *call) (*message, entry, error) {
	m := ch.message(id)
	if err := m.editBy(by, text); err != nil {
		return nil, entry{}, err
	}
	e := t.recordChannel(ch, by, via, entry{kind: entryEditMessage, ptsCount: 1, msgID: m.id})
	return m, e, nil
}

// editChannelCall is messages.editMessage in ch.
func (t *tx) editChannelCall(c *call, me *account, ch *channel, r *tg.MessagesEditMessageRequest) (bin.Encoder, error) {
	s := t.s
	m := ch.message(r.ID)
	if m == nil || !m.visibleTo(me.ID) {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	text, ok := r.GetMessage()
	if !ok {
		return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	if err := checkText(text, m.media != nil); err != nil {
		return nil, err
	}
	m, e, err := t.editChannel(me.ID, ch, r.ID, text, c)
	if err != nil {
		return nil, err
	}
	msg, mr := s.renderMessage(me.ID, m)
	return &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateEditChannelMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}},
		Users:   s.renderUsers(me.ID, uniq(append(mr.users, me.ID))),
		Chats:   s.renderChats(me.ID, uniq(mr.chats)),
		Date:    int(time.Now().Unix()),
	}, nil
}

// deleteChannel deletes ch's messages ids for everyone; each must be by's
// or by must be the creator (else nothing is deleted). Unknown ids are
// skipped. It returns the channel's entry (ptsCount 0 if nothing was
// deleted).
func (t *tx) deleteChannel(by int64, ch *channel, ids []int, via *call) (entry, error) {
	var del []*message
	for _, id := range uniqInts(ids) {
		m := ch.message(id)
		if m == nil || !m.visibleTo(by) {
			continue
		}
		if m.from != by && by != ch.creator {
			return entry{}, tgerr.New(403, "MESSAGE_DELETE_FORBIDDEN")
		}
		del = append(del, m)
	}
	if len(del) == 0 {
		return entry{pts: ch.pts}, nil
	}
	done := make([]int, 0, len(del))
	for _, m := range del {
		m.deleted = true
		done = append(done, m.id)
	}
	return t.recordChannel(ch, by, via, entry{kind: entryDeleteMessages, ptsCount: len(done), ids: done}), nil
}

// reactChannel sets by's reactions on ch's message id and pushes
// UpdateMessageReactions to every member. via's auth key gets no push.
func (t *tx) reactChannel(by int64, ch *channel, id int, emoticons []string, via *call) (*message, error) {
	m := ch.message(id)
	if m == nil || !m.visibleTo(by) {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	setReactions(m, by, emoticons)
	for _, o := range ch.members {
		if !m.visibleTo(o) {
			continue
		}
		var except [8]byte
		if via != nil && o == by {
			except = via.key
		}
		t.push(o, except, &tg.UpdateMessageReactions{Peer: &tg.PeerChannel{ChannelID: ch.id}, MsgID: m.id, Reactions: renderReactions(o, m)},
			refs{chats: []int64{ch.id}})
	}
	return m, nil
}

// readChannel marks ch read up to maxID (0: everything) for a, as
// channels.readHistory does. Nothing is logged or pushed.
func (s *Server) readChannel(a *account, ch *channel, maxID int) {
	peer := Peer{Channel: ch.id}
	a.lastRead[peer] = maxID
	top := 0
	if box := s.dialogMessages(a.ID, peer); len(box) > 0 {
		top = box[len(box)-1].id
	}
	if maxID <= 0 || maxID > top {
		maxID = top
	}
	if maxID > a.readInbox[peer] {
		a.readInbox[peer] = maxID
	}
}

// changeInChannel runs f in a change as the caller's account, on the
// channel in names; an error of either is the RPC's.
func (s *Server) changeInChannel(c *call, in tg.InputChannelClass, f func(t *tx, me *account, ch *channel) (bin.Encoder, error)) (bin.Encoder, error) {
	return changeAs(s, c, func(me *account) (*channel, error) { return s.inputChannel(me.ID, in) }, f)
}

// updatesGetChannelDifference answers updates.getChannelDifference from
// the channel's log: new messages (not deleted) in NewMessages, edits and
// deletions in OtherUpdates, at most limit (100) entries per call. From
// more than channelTooLongGap behind, or after ChannelTooLong, the answer
// is TooLong.
func (s *Server) updatesGetChannelDifference(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.UpdatesGetChannelDifferenceRequest, me *account) (bin.Encoder, error) {
		ch, err := s.inputChannel(me.ID, r.Channel)
		if err != nil {
			return nil, err
		}
		if r.Pts <= 0 {
			return nil, tgerr.New(400, "PERSISTENT_TIMESTAMP_INVALID")
		}
		s.log.Debug("tguserfake: channel difference", "user", me.ID, "channel", ch.id, "from_pts", r.Pts, "pts", ch.pts)
		if ch.tooLong || ch.pts-r.Pts > channelTooLongGap {
			ch.tooLong = false
			return s.channelDifferenceTooLong(me, ch), nil
		}
		if r.Pts >= ch.pts {
			return &tg.UpdatesChannelDifferenceEmpty{Final: true, Pts: ch.pts}, nil
		}
		limit := r.Limit
		if limit <= 0 || limit > differenceLimit {
			limit = differenceLimit
		}
		start := sort.Search(len(ch.log), func(i int) bool { return ch.log[i].pts > r.Pts })
		end := min(start+limit, len(ch.log))

		var (
			msgs  = []tg.MessageClass{}
			other = []tg.UpdateClass{}
			all   = refs{chats: []int64{ch.id}}
		)
		for i := start; i < end; i++ {
			e := &ch.log[i]
			if e.kind == entryNewMessage {
				m := ch.message(e.msgID)
				if !m.visibleTo(me.ID) {
					continue
				}
				msg, mr := s.renderMessage(me.ID, m)
				msgs = append(msgs, msg)
				all.add(mr)
				continue
			}
			u, ur := s.renderChannelEntry(me.ID, ch, e)
			other = append(other, u)
			all.add(ur)
		}
		final, pts := end == len(ch.log), ch.pts
		if !final {
			pts = ch.log[end-1].pts
		}
		return &tg.UpdatesChannelDifference{
			Final: final, Pts: pts, NewMessages: msgs, OtherUpdates: other,
			Chats: s.renderChats(me.ID, uniq(all.chats)),
			Users: s.renderUsers(me.ID, uniq(append(all.users, me.ID))),
		}, nil
	})
}

// channelDifferenceTooLong is the TooLong answer for me in ch: the dialog
// at the channel's pts and its newest messages.
func (s *Server) channelDifferenceTooLong(me *account, ch *channel) *tg.UpdatesChannelDifferenceTooLong {
	peer := Peer{Channel: ch.id}
	box := s.dialogMessages(me.ID, peer)
	var top *message
	if len(box) > 0 {
		top = box[len(box)-1]
	}
	msgs := []tg.MessageClass{}
	all := refs{chats: []int64{ch.id}}
	for i := len(box) - 1; i >= 0 && len(msgs) < channelTooLongMessages; i-- {
		msg, mr := s.renderMessage(me.ID, box[i])
		msgs = append(msgs, msg)
		all.add(mr)
	}
	return &tg.UpdatesChannelDifferenceTooLong{
		Final:    true,
		Dialog:   s.renderDialog(me, dialog{peer: peer, top: top}),
		Messages: msgs,
		Chats:    s.renderChats(me.ID, uniq(all.chats)),
		Users:    s.renderUsers(me.ID, uniq(append(all.users, me.ID))),
	}
}

// channelsDeleteMessages answers channels.deleteMessages: for everyone,
// only the author's messages (or any, for the creator).
func (s *Server) channelsDeleteMessages(c *call) (bin.Encoder, error) {
	r, err := decode[tg.ChannelsDeleteMessagesRequest](c)
	if err != nil {
		return nil, err
	}
	return s.changeInChannel(c, r.Channel, func(t *tx, me *account, ch *channel) (bin.Encoder, error) {
		e, err := t.deleteChannel(me.ID, ch, r.ID, c)
		if err != nil {
			return nil, err
		}
		return &tg.MessagesAffectedMessages{Pts: e.pts, PtsCount: e.ptsCount}, nil
	})
}

// channelsReadHistory answers channels.readHistory (recorded for ReadUpTo).
func (s *Server) channelsReadHistory(c *call) (bin.Encoder, error) {
	r, err := decode[tg.ChannelsReadHistoryRequest](c)
	if err != nil {
		return nil, err
	}
	return s.changeInChannel(c, r.Channel, func(_ *tx, me *account, ch *channel) (bin.Encoder, error) {
		s.readChannel(me, ch, r.MaxID)
		return &tg.BoolTrue{}, nil
	})
}

// channelsGetMessages answers channels.getMessages by id; messages not in
// the channel (or deleted) come back as messageEmpty.
func (s *Server) channelsGetMessages(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.ChannelsGetMessagesRequest, me *account) (bin.Encoder, error) {
		ch, err := s.inputChannel(me.ID, r.Channel)
		if err != nil {
			return nil, err
		}
		msgs := make([]tg.MessageClass, 0, len(r.ID))
		all := refs{chats: []int64{ch.id}}
		for _, in := range r.ID {
			id := 0
			if in, ok := in.(*tg.InputMessageID); ok {
				id = in.ID
			}
			m := ch.message(id)
			if m == nil || !m.visibleTo(me.ID) {
				msgs = append(msgs, &tg.MessageEmpty{ID: id, PeerID: &tg.PeerChannel{ChannelID: ch.id}})
				continue
			}
			msg, mr := s.renderMessage(me.ID, m)
			msgs = append(msgs, msg)
			all.add(mr)
		}
		return &tg.MessagesChannelMessages{
			Pts: ch.pts, Count: len(msgs), Messages: msgs, Topics: []tg.ForumTopicClass{},
			Chats: s.renderChats(me.ID, uniq(all.chats)),
			Users: s.renderUsers(me.ID, uniq(append(all.users, me.ID))),
		}, nil
	})
}

// channelsGetChannels answers channels.getChannels for channels the caller
// is in.
func (s *Server) channelsGetChannels(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.ChannelsGetChannelsRequest, me *account) (bin.Encoder, error) {
		out := &tg.MessagesChats{Chats: []tg.ChatClass{}}
		for _, in := range r.ID {
			ch, err := s.inputChannel(me.ID, in)
			if err != nil {
				return nil, err
			}
			out.Chats = append(out.Chats, s.renderChannel(me.ID, ch))
		}
		return out, nil
	})
}
