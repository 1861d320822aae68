package tguserfake

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// maxMessageLength is Telegram's limit, in UTF-16 code units.
const maxMessageLength = 4096

// message is the stored message id, nil if none. The caller holds s.mu.
func (s *Server) message(id int) *message {
	if id < 1 || id > len(s.msgs) {
		return nil
	}
	return s.msgs[id-1]
}

// Post makes user from write text to peer to (a contact writing to the
// user, or the user writing from the official app). It is stored in every
// involved user's box and pushed as UpdateNewMessage (Out set for the
// author) to their sessions. In a channel (Peer{Channel}) it gets the
// channel's next id and pts and is pushed as UpdateNewChannelMessage to
// every member; only the creator posts in a broadcast channel. A zero
// Message means from or to is unknown, or from may not post there.
func (s *Server) Post(from int64, to Peer, text string, replyTo int) Message {
	return s.postAs(from, to, text, replyTo, nil)
}

func (s *Server) postAs(from int64, to Peer, text string, replyTo int, md *media) Message {
	var out Message
	s.change(func(t *tx) {
		m, err := t.post(from, to, text, replyTo, md, nil, 0)
		if err != nil {
			s.log.Error("tguserfake: Post", "from", from, "to", to, "err", err)
			return
		}
		out = s.export(m)
	})
	return out
}

// post stores a new message and records and pushes it for every owner.
// via is the call that sent it (its auth key gets the message in the
// answer, not as a push), nil for Post.
func (t *tx) post(from int64, to Peer, text string, replyTo int, md *media, via *call, randomID int64) (*message, error) {
	s := t.s
	if s.users[from] == nil {
		return nil, tgerr.New(400, "USER_ID_INVALID")
	}
	if to.Channel != 0 {
		ch := s.channels[to.Channel]
		if ch == nil || to.User != 0 || to.Chat != 0 {
			return nil, tgerr.New(400, "CHANNEL_INVALID")
		}
		return t.postChannel(from, ch, text, replyTo, md, via, randomID)
	}
	var owners []int64
	switch {
	case to.Chat != 0:
		ch := s.chats[to.Chat]
		if ch == nil || !ch.has(from) || to.User != 0 {
			return nil, tgerr.New(400, "PEER_ID_INVALID")
		}
		owners = append(owners, ch.members...)
	case s.users[to.User] != nil:
		owners = uniq([]int64{from, to.User})
	default:
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	if r := s.message(replyTo); r == nil || !r.visibleTo(from) || r.peerFor(from) != to {
		replyTo = 0
	}
	s.posted++
	m := &message{
		id: len(s.msgs) + 1, seq: s.posted, from: from, to: to, text: text, replyTo: replyTo,
		date: time.Now(), media: md, owners: owners, viaAPI: via != nil, randomID: randomID,
	}
	s.msgs = append(s.msgs, m)
	for _, o := range owners {
		var except [8]byte
		if via != nil && o == from {
			except = via.key
		}
		e := t.recordAndPush(s.users[o], except, entry{kind: entryNewMessage, ptsCount: 1, msgID: m.id})
		if o == from {
			m.senderPts = e.pts
		}
	}
	if via != nil {
		s.users[from].randomIDs[randomID] = m.id
	}
	return m, nil
}

// export is m as the package's Message.
func (s *Server) export(m *message) Message {
	out := Message{
		ID: m.id, From: m.from, Peer: m.to, Text: m.text, ReplyTo: m.replyTo,
		Edited: !m.editDate.IsZero(), Deleted: m.deleted || m.hidden[m.from],
		Date: m.date,
	}
	if len(m.reactions) > 0 {
		out.Reactions = map[int64][]string{}
		for u, r := range m.reactions {
			out.Reactions[u] = slices.Clone(r)
		}
	}
	if m.media != nil {
		out.Media = &File{Name: m.media.name, MIME: m.media.mime, Data: slices.Clone(m.media.data)}
	}
	return out
}

// Sent is what owner sent with messages.sendMessage / sendMedia, in
// private chats, groups and channels, with later edits, deletions and
// reactions applied, oldest first.
func (s *Server) Sent(owner int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.allMessages() {
		if m.viaAPI && m.from == owner {
			out = append(out, s.export(m))
		}
	}
	return out
}

// allMessages is every message, channels' included, in the order they
// were posted. The caller holds s.mu.
func (s *Server) allMessages() []*message {
	all := slices.Clone(s.msgs)
	for _, ch := range s.channels {
		all = append(all, ch.msgs...)
	}
	slices.SortFunc(all, func(x, y *message) int { return x.seq - y.seq })
	return all
}

// History is user's box for peer as the fake sees it, oldest first.
func (s *Server) History(user int64, peer Peer) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.dialogMessages(user, peer) {
		out = append(out, s.export(m))
	}
	return out
}

// ReadUpTo is max_id of owner's last messages.readHistory on peer.
func (s *Server) ReadUpTo(owner int64, peer Peer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.users[owner]; a != nil {
		return a.lastRead[peer]
	}
	return 0
}

// TypingSeen is how many messages.setTyping owner sent to peer.
func (s *Server) TypingSeen(owner int64, peer Peer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.users[owner]; a != nil {
		return a.typingSeen[peer]
	}
	return 0
}

// renderMessage is m as viewer sees it. The caller holds s.mu.
func (s *Server) renderMessage(viewer int64, m *message) (*tg.Message, refs) {
	peer := m.peerFor(viewer)
	msg := &tg.Message{
		ID:      m.id,
		Out:     m.from == viewer,
		FromID:  &tg.PeerUser{UserID: m.from},
		PeerID:  renderPeer(peer),
		Date:    int(m.date.Unix()),
		Message: m.text,
	}
	author := true
	if ch := s.channels[peer.Channel]; ch != nil && !ch.megagroup {
		// A broadcast channel's post has no author.
		msg.Post, msg.FromID, author = true, nil, false
	}
	if m.replyTo != 0 {
		msg.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: m.replyTo}
	}
	if !m.editDate.IsZero() {
		msg.EditDate = int(m.editDate.Unix())
	}
	if m.media != nil {
		msg.Media = renderMedia(m.media)
	}
	if len(m.reactions) > 0 {
		msg.Reactions = renderReactions(viewer, m)
	}
	r := peerRefs(peer)
	if author {
		r.users = append(r.users, m.from)
	}
	return msg, r
}

// renderReactions is m's reactions as viewer sees them.
func renderReactions(viewer int64, m *message) tg.MessageReactions {
	counts := map[string]int{}
	users := slices.Sorted(maps.Keys(m.reactions))
	out := tg.MessageReactions{CanSeeList: true}
	for _, u := range users {
		for _, e := range m.reactions[u] {
			counts[e]++
			out.RecentReactions = append(out.RecentReactions, tg.MessagePeerReaction{
				My: u == viewer, PeerID: &tg.PeerUser{UserID: u},
				Date: int(m.reactedAt[u].Unix()), Reaction: &tg.ReactionEmoji{Emoticon: e},
			})
		}
	}
	emos := slices.Collect(maps.Keys(counts))
	sort.Slice(emos, func(i, j int) bool {
		if counts[emos[i]] != counts[emos[j]] {
			return counts[emos[i]] > counts[emos[j]]
		}
		return emos[i] < emos[j]
	})
	for _, e := range emos {
		rc := tg.ReactionCount{Reaction: &tg.ReactionEmoji{Emoticon: e}, Count: counts[e]}
		if i := slices.Index(m.reactions[viewer], e); i >= 0 {
			rc.ChosenOrder = i + 1
		}
		out.Results = append(out.Results, rc)
	}
	return out
}

// replyToID is the message an InputReplyTo points at, 0 if none.
func replyToID(r tg.InputReplyToClass) int {
	if r, ok := r.(*tg.InputReplyToMessage); ok {
		return r.ReplyToMsgID
	}
	return 0
}

// sentUpdates is the answer to sendMessage / sendMedia for m.
func (s *Server) sentUpdates(me *account, m *message) *tg.Updates {
	msg, r := s.renderMessage(me.ID, m)
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: m.id, RandomID: m.randomID},
			&tg.UpdateNewMessage{Message: msg, Pts: m.senderPts, PtsCount: 1},
		},
		Users: s.renderUsers(me.ID, uniq(append(r.users, me.ID))),
		Chats: s.renderChats(me.ID, uniq(r.chats)),
		Date:  int(time.Now().Unix()),
	}
}

// checkText validates a message text.
func checkText(text string, caption bool) error {
	if !caption && strings.TrimSpace(text) == "" {
		return tgerr.New(400, "MESSAGE_EMPTY")
	}
	if len(utf16.Encode([]rune(text))) > maxMessageLength {
		return tgerr.New(400, "MESSAGE_TOO_LONG")
	}
	return nil
}

// messagesSendMessage answers messages.sendMessage. A random_id the user
// already sent returns the first message again.
func (s *Server) messagesSendMessage(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesSendMessageRequest](c)
	if err != nil {
		return nil, err
	}
	if isChannelInput(r.Peer) {
		return s.sendToChannel(c, r.Peer, r.RandomID, r.Message, false, replyToID(r.ReplyTo), nil)
	}
	var (
		res    bin.Encoder
		rpcErr error
	)
	s.change(func(t *tx) {
		me, err := c.account()
		if err != nil {
			rpcErr = err
			return
		}
		if id, ok := me.randomIDs[r.RandomID]; ok {
			res = s.sentUpdates(me, s.message(id))
			return
		}
		peer, err := s.inputPeer(me.ID, r.Peer)
		if err != nil {
			rpcErr = err
			return
		}
		if err := checkText(r.Message, false); err != nil {
			rpcErr = err
			return
		}
		m, err := t.post(me.ID, peer, r.Message, replyToID(r.ReplyTo), nil, c, r.RandomID)
		if err != nil {
			rpcErr = err
			return
		}
		res = s.sentUpdates(me, m)
	})
	return res, rpcErr
}

// Edit changes the text of message id, written by by, and pushes
// UpdateEditMessage to everyone who has it. For a channel message use
// EditIn.
func (s *Server) Edit(by int64, id int, text string) {
	s.change(func(t *tx) {
		if _, _, err := t.edit(by, id, text, nil); err != nil {
			s.log.Error("tguserfake: Edit", "by", by, "id", id, "err", err)
		}
	})
}

// edit changes m's text for its author by and returns by's entry. via's
// auth key gets no push.
func (t *tx) edit(by int64, id int, text string, via *call) (*message, entry, error) {
	m := t.s.message(id)
	if err := m.editBy(by, text); err != nil {
		return nil, entry{}, err
	}
	mine := t.recordForOwners(m, by, via, func(int64) entry {
		return entry{kind: entryEditMessage, ptsCount: 1, msgID: m.id}
	})
	return m, mine, nil
}

// editBy changes m's text as by, as Telegram checks it (m may be nil).
func (m *message) editBy(by int64, text string) error {
	if m == nil || !m.visibleTo(by) {
		return tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if m.from != by {
		return tgerr.New(403, "MESSAGE_AUTHOR_REQUIRED")
	}
	if m.text == text {
		return tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	m.text = text
	m.editDate = time.Now()
	return nil
}

// recordForOwners records (and pushes) mk(owner) for every owner that
// still has m and returns by's entry. via's auth key gets no push.
func (t *tx) recordForOwners(m *message, by int64, via *call, mk func(owner int64) entry) entry {
	var mine entry
	for _, o := range m.owners {
		if m.hidden[o] {
			continue
		}
		var except [8]byte
		if via != nil && o == by {
			except = via.key
		}
		e := t.recordAndPush(t.s.users[o], except, mk(o))
		if o == by {
			mine = e
		}
	}
	return mine
}

// messagesEditMessage answers messages.editMessage (text only).
func (s *Server) messagesEditMessage(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesEditMessageRequest](c)
	if err != nil {
		return nil, err
	}
	return s.changeIn(c, r.Peer, func(t *tx, me *account, peer Peer) (bin.Encoder, error) {
		if peer.Channel != 0 {
			return t.editChannelCall(c, me, s.channels[peer.Channel], r)
		}
		if m := s.message(r.ID); m == nil || !m.visibleTo(me.ID) || m.peerFor(me.ID) != peer {
			return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
		}
		text, ok := r.GetMessage()
		if !ok {
			return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
		}
		if err := checkText(text, s.message(r.ID).media != nil); err != nil {
			return nil, err
		}
		m, e, err := t.edit(me.ID, r.ID, text, c)
		if err != nil {
			return nil, err
		}
		msg, mr := s.renderMessage(me.ID, m)
		return &tg.Updates{
			Updates: []tg.UpdateClass{&tg.UpdateEditMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}},
			Users:   s.renderUsers(me.ID, uniq(append(mr.users, me.ID))),
			Chats:   s.renderChats(me.ID, uniq(mr.chats)),
			Date:    int(time.Now().Unix()),
		}, nil
	})
}

// Delete deletes messages ids (in by's box) for everyone and pushes
// UpdateDeleteMessages. For channel messages use DeleteIn.
func (s *Server) Delete(by int64, ids ...int) {
	s.change(func(t *tx) {
		t.delete(by, ids, true, nil)
	})
}

// delete deletes ids from by's box: for everyone with revoke, else for by
// only. It returns by's entry (ptsCount 0 if nothing was deleted).
func (t *tx) delete(by int64, ids []int, revoke bool, via *call) entry {
	s := t.s
	me := s.users[by]
	if me == nil {
		return entry{}
	}
	perOwner := map[int64][]int{}
	for _, id := range uniqInts(ids) {
		m := s.message(id)
		if m == nil || !m.visibleTo(by) {
			continue
		}
		if revoke {
			for _, o := range m.owners {
				if !m.hidden[o] {
					perOwner[o] = append(perOwner[o], id)
				}
			}
			m.deleted = true
			continue
		}
		if m.hidden == nil {
			m.hidden = map[int64]bool{}
		}
		m.hidden[by] = true
		perOwner[by] = append(perOwner[by], id)
	}
	mine := entry{pts: me.pts}
	for _, o := range slices.Sorted(maps.Keys(perOwner)) {
		var except [8]byte
		if via != nil && o == by {
			except = via.key
		}
		e := t.recordAndPush(s.users[o], except, entry{kind: entryDeleteMessages, ptsCount: len(perOwner[o]), ids: perOwner[o]})
		if o == by {
			mine = e
		}
	}
	return mine
}

// uniqInts drops repeated ids, keeping order.
func uniqInts(ids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// messagesDeleteMessages answers messages.deleteMessages.
func (s *Server) messagesDeleteMessages(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesDeleteMessagesRequest](c)
	if err != nil {
		return nil, err
	}
	var (
		res    bin.Encoder
		rpcErr error
	)
	s.change(func(t *tx) {
		if _, rpcErr = c.account(); rpcErr != nil {
			return
		}
		e := t.delete(c.user, r.ID, r.Revoke, c)
		res = &tg.MessagesAffectedMessages{Pts: e.pts, PtsCount: e.ptsCount}
	})
	return res, rpcErr
}

// React sets by's reactions on message id (none removes them) and pushes
// UpdateMessageReactions to everyone who has it. For a channel message use
// ReactIn.
func (s *Server) React(by int64, id int, emoticons ...string) {
	s.change(func(t *tx) {
		if _, err := t.react(by, id, emoticons, nil); err != nil {
			s.log.Error("tguserfake: React", "by", by, "id", id, "err", err)
		}
	})
}

// react sets by's reactions on message id. via's auth key gets no push.
func (t *tx) react(by int64, id int, emoticons []string, via *call) (*message, error) {
	s := t.s
	m := s.message(id)
	if m == nil || !m.visibleTo(by) {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	setReactions(m, by, emoticons)
	for _, o := range m.owners {
		if !m.visibleTo(o) {
			continue
		}
		var except [8]byte
		if via != nil && o == by {
			except = via.key
		}
		peer := m.peerFor(o)
		t.push(o, except, &tg.UpdateMessageReactions{Peer: renderPeer(peer), MsgID: m.id, Reactions: renderReactions(o, m)}, peerRefs(peer))
	}
	return m, nil
}

// setReactions sets by's reactions on m (none removes them).
func setReactions(m *message, by int64, emoticons []string) {
	if m.reactions == nil {
		m.reactions, m.reactedAt = map[int64][]string{}, map[int64]time.Time{}
	}
	if len(emoticons) == 0 {
		delete(m.reactions, by)
		delete(m.reactedAt, by)
		return
	}
	m.reactions[by] = slices.Clone(emoticons)
	m.reactedAt[by] = time.Now()
}

// messagesSendReaction answers messages.sendReaction (emoji reactions).
func (s *Server) messagesSendReaction(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesSendReactionRequest](c)
	if err != nil {
		return nil, err
	}
	var emos []string
	for _, rc := range r.Reaction {
		switch rc := rc.(type) {
		case *tg.ReactionEmoji:
			emos = append(emos, rc.Emoticon)
		case *tg.ReactionEmpty:
		default:
			return nil, tgerr.New(400, "REACTION_INVALID")
		}
	}
	return s.changeIn(c, r.Peer, func(t *tx, me *account, peer Peer) (bin.Encoder, error) {
		var (
			m   *message
			err error
		)
		if peer.Channel != 0 {
			if m, err = t.reactChannel(me.ID, s.channels[peer.Channel], r.MsgID, emos, c); err != nil {
				return nil, err
			}
		} else {
			if m := s.message(r.MsgID); m == nil || !m.visibleTo(me.ID) || m.peerFor(me.ID) != peer {
				return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
			}
			if m, err = t.react(me.ID, r.MsgID, emos, c); err != nil {
				return nil, err
			}
		}
		return &tg.Updates{
			Updates: []tg.UpdateClass{&tg.UpdateMessageReactions{Peer: renderPeer(peer), MsgID: m.id, Reactions: renderReactions(me.ID, m)}},
			Users:   s.renderUsers(me.ID, uniq(append(peerRefs(peer).users, me.ID))),
			Chats:   s.renderChats(me.ID, peerRefs(peer).chats),
			Date:    int(time.Now().Unix()),
		}, nil
	})
}

// MarkRead makes user by read peer up to maxID (0: everything), as
// messages.readHistory does; the other side gets UpdateReadHistoryOutbox.
// In a channel it is channels.readHistory: nothing is logged or pushed.
func (s *Server) MarkRead(by int64, peer Peer, maxID int) {
	s.change(func(t *tx) {
		a := s.users[by]
		switch {
		case a == nil:
		case peer.Channel != 0:
			if ch := s.channels[peer.Channel]; ch != nil && ch.has(by) {
				s.readChannel(a, ch, maxID)
			}
		default:
			t.read(a, peer, maxID, nil)
		}
	})
}

// read marks peer read up to maxID for a: UpdateReadHistoryInbox for a,
// UpdateReadHistoryOutbox for the other side. It returns a's entry
// (ptsCount 0 if nothing changed).
func (t *tx) read(a *account, peer Peer, maxID int, via *call) entry {
	s := t.s
	a.lastRead[peer] = maxID
	box := s.dialogMessages(a.ID, peer)
	top := 0
	if len(box) > 0 {
		top = box[len(box)-1].id
	}
	if maxID <= 0 || maxID > top {
		maxID = top
	}
	if maxID <= a.readInbox[peer] {
		return entry{pts: a.pts}
	}
	a.readInbox[peer] = maxID
	var except [8]byte
	if via != nil {
		except = via.key
	}
	mine := t.recordAndPush(a, except, entry{kind: entryReadInbox, ptsCount: 1, peer: peer, maxID: maxID, unread: s.unread(a, peer)})
	var others []int64
	if peer.Chat != 0 {
		others = s.chats[peer.Chat].members
	} else {
		others = []int64{peer.User}
	}
	for _, o := range others {
		if o == a.ID || s.users[o] == nil {
			continue
		}
		theirs := peer
		if peer.Chat == 0 {
			theirs = Peer{User: a.ID}
		}
		t.recordAndPush(s.users[o], [8]byte{}, entry{kind: entryReadOutbox, ptsCount: 1, peer: theirs, maxID: maxID})
	}
	return mine
}

// messagesReadHistory answers messages.readHistory.
func (s *Server) messagesReadHistory(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesReadHistoryRequest](c)
	if err != nil {
		return nil, err
	}
	return s.changeIn(c, r.Peer, func(t *tx, me *account, peer Peer) (bin.Encoder, error) {
		if peer.Channel != 0 {
			return nil, tgerr.New(400, "PEER_ID_INVALID") // channels.readHistory
		}
		e := t.read(me, peer, r.MaxID, c)
		return &tg.MessagesAffectedMessages{Pts: e.pts, PtsCount: e.ptsCount}, nil
	})
}

// Typing pushes "typing" from user from to peer to (UpdateUserTyping, or
// UpdateChatUserTyping / UpdateChannelUserTyping to the other members). It
// is not stored.
func (s *Server) Typing(from int64, to Peer) {
	s.change(func(t *tx) {
		t.typing(from, to, &tg.SendMessageTypingAction{})
	})
}

// typing pushes action from from to the other side of to.
func (t *tx) typing(from int64, to Peer, action tg.SendMessageActionClass) {
	s := t.s
	if to.Channel != 0 {
		ch := s.channels[to.Channel]
		if ch == nil || !ch.has(from) {
			return
		}
		for _, m := range ch.members {
			if m != from {
				t.push(m, [8]byte{}, &tg.UpdateChannelUserTyping{ChannelID: ch.id, FromID: &tg.PeerUser{UserID: from}, Action: action},
					refs{users: []int64{from}, chats: []int64{ch.id}})
			}
		}
		return
	}
	if to.Chat != 0 {
		ch := s.chats[to.Chat]
		if ch == nil || !ch.has(from) {
			return
		}
		for _, m := range ch.members {
			if m != from {
				t.push(m, [8]byte{}, &tg.UpdateChatUserTyping{ChatID: ch.id, FromID: &tg.PeerUser{UserID: from}, Action: action},
					refs{users: []int64{from}, chats: []int64{ch.id}})
			}
		}
		return
	}
	if to.User != from {
		t.push(to.User, [8]byte{}, &tg.UpdateUserTyping{UserID: from, Action: action}, refs{users: []int64{from}})
	}
}

// messagesSetTyping answers messages.setTyping.
func (s *Server) messagesSetTyping(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesSetTypingRequest](c)
	if err != nil {
		return nil, err
	}
	var rpcErr error
	s.change(func(t *tx) {
		me, err := c.account()
		if err != nil {
			rpcErr = err
			return
		}
		peer, err := s.inputPeer(me.ID, r.Peer)
		if err != nil {
			rpcErr = err
			return
		}
		me.typingSeen[peer]++
		t.typing(me.ID, peer, r.Action)
	})
	if rpcErr != nil {
		return nil, rpcErr
	}
	return &tg.BoolTrue{}, nil
}
