package telegramuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// syncState is the account's place in its update sequence, kept in the
// store: the next getDifference starts from it.
type syncState struct {
	Pts, Qts, Date, Seq int
}

// rpcTimeout bounds one attempt of a request (perAttempt): a request in
// flight when the connection is cut gets no answer on the new one.
const rpcTimeout = 20 * time.Second

// followEvery is how often the difference is read without a push.
const followEvery = 30 * time.Second

// follow reads the account's updates with updates.getDifference from the
// stored state, at once (after a restart or reconnect), on every push and
// every followEvery, until ctx ends. The state advances only past
// updates the core has stored, and each read starts from the stored one.
func (a *account) follow(ctx context.Context) error {
	ctx = perAttempt(ctx, rpcTimeout)
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	allChannels := true // at start, then on every tick
	for {
		// The stored state is the truth: each read starts from it.
		st, err := a.startState(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		err = a.catchUp(ctx, st)
		if err == nil {
			err = a.followChannels(ctx, allChannels)
		}
		if err == nil {
			var done bool
			if done, err = a.readMissed(ctx); done {
				allChannels = true // those left to it, from their states now
				continue
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			pause := time.Second
			if d, ok := asWait(err); ok {
				// Longer than the flood middleware waits: wait here, not
				// with a new session's requests (never less than a
				// failed session would).
				a.t.log.Warn("Telegram asks to wait before reading the updates; waiting", "user", a.user, "wait", d)
				pause = max(d, retryPause)
			} else if errors.Is(err, context.DeadlineExceeded) {
				// A request lost with a cut connection: ask again, on the new one.
				a.t.log.Warn("reading Telegram's updates timed out; asking again", "user", a.user)
			} else {
				return err
			}
			if !sleep(ctx, pause) {
				return nil
			}
			continue
		}
		allChannels = false
		stopDue := func() bool { return false }
		var missedDue <-chan time.Time // readMissed's deferred time
		if a.missed != 0 {
			due := time.NewTimer(time.Until(a.missedAt))
			stopDue = due.Stop
			missedDue = due.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.poke:
		case <-missedDue:
		case <-tick.C:
			allChannels = true
		case p := <-a.live:
			if err := a.handle(ctx, nil, p.updates, p.users, p.chats); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		stopDue()
	}
}

// pushed is an update Telegram pushed that is not in the pts sequence.
type pushed struct {
	updates []tg.UpdateClass
	users   []tg.UserClass
	chats   []tg.ChatClass
}

// liveQueue bounds the pushed updates waiting for the follower; past it
// they are dropped (reactions are best effort, as Telegram's are).
const liveQueue = 256

// pushed is gotd's update handler. Updates in a pts sequence (the
// account's, or a channel's) are read with getDifference or
// getChannelDifference from the stored state, so a push of one only says
// there is something to read; a reaction or a contact's status, which are
// in no sequence, are passed to the follower as they are.
func (a *account) pushed(_ context.Context, u tg.UpdatesClass) error {
	var list []tg.UpdateClass
	var p pushed
	switch u := u.(type) {
	case *tg.Updates:
		list, p.users, p.chats = u.Updates, u.Users, u.Chats
	case *tg.UpdatesCombined:
		list, p.users, p.chats = u.Updates, u.Users, u.Chats
	case *tg.UpdateShort:
		list = []tg.UpdateClass{u.Update}
	}
	for _, up := range list {
		switch up.(type) {
		case *tg.UpdateMessageReactions, *tg.UpdateUserStatus, *tg.UpdateUserTyping:
			p.updates = append(p.updates, up)
		default:
			a.markPushed(up)
		}
	}
	if len(p.updates) > 0 {
		select {
		case a.live <- p:
		default:
			a.t.log.Warn("too many pushed updates waiting; a reaction is dropped", "user", a.user)
		}
	}
	select {
	case a.poke <- struct{}{}:
	default:
	}
	return nil
}

// startState returns the stored state, or, for a new session, Telegram's
// state now, stored: what happened before the session is not relayed.
func (a *account) startState(ctx context.Context) (*syncState, error) {
	st, err := a.loadState(ctx)
	if err != nil || st != nil {
		return st, err
	}
	remote, err := a.api().UpdatesGetState(ctx)
	if err != nil {
		return nil, err
	}
	st = &syncState{Pts: remote.Pts, Qts: remote.Qts, Date: remote.Date, Seq: remote.Seq}
	return st, a.saveState(ctx, st)
}

// catchUp reads the difference until it is empty.
func (a *account) catchUp(ctx context.Context, st *syncState) error {
	for {
		diff, err := a.api().UpdatesGetDifference(ctx, &tg.UpdatesGetDifferenceRequest{
			Pts: st.Pts, Qts: st.Qts, Date: st.Date})
		if err != nil {
			return err
		}
		next := *st
		more := false
		switch d := diff.(type) {
		case *tg.UpdatesDifferenceEmpty:
			next.Date, next.Seq = d.Date, d.Seq
		case *tg.UpdatesDifference:
			if err := a.handle(ctx, d.NewMessages, d.OtherUpdates, d.Users, d.Chats); err != nil {
				return err
			}
			next = syncState{Pts: d.State.Pts, Qts: d.State.Qts, Date: d.State.Date, Seq: d.State.Seq}
		case *tg.UpdatesDifferenceSlice:
			if err := a.handle(ctx, d.NewMessages, d.OtherUpdates, d.Users, d.Chats); err != nil {
				return err
			}
			s := d.IntermediateState
			next, more = syncState{Pts: s.Pts, Qts: s.Qts, Date: s.Date, Seq: s.Seq}, true
		case *tg.UpdatesDifferenceTooLong:
			next.Pts, more = d.Pts, true
		default:
			return errors.New("unexpected difference")
		}
		if next != *st {
			if err := a.saveState(ctx, &next); err != nil {
				return err
			}
			*st = next
		}
		if !more {
			return nil
		}
	}
}

// handle passes a difference's messages and updates to the core, each
// stored before it returns.
func (a *account) handle(ctx context.Context, msgs []tg.MessageClass, other []tg.UpdateClass, users []tg.UserClass, chats []tg.ChatClass) error {
	a.peers.add(users, chats)
	for _, m := range msgs {
		if m, ok := m.(*tg.Message); ok {
			if err := a.deliver(ctx, m, false); err != nil {
				return err
			}
		}
	}
	for _, u := range other {
		var err error
		switch u := u.(type) {
		case *tg.UpdateNewMessage:
			if m, ok := u.Message.(*tg.Message); ok {
				err = a.deliver(ctx, m, false)
			}
		case *tg.UpdateEditMessage:
			if m, ok := u.Message.(*tg.Message); ok {
				err = a.deliver(ctx, m, true)
			}
		case *tg.UpdateNewChannelMessage:
			if m, ok := u.Message.(*tg.Message); ok {
				err = a.deliver(ctx, m, false)
			}
		case *tg.UpdateEditChannelMessage:
			if m, ok := u.Message.(*tg.Message); ok {
				err = a.deliver(ctx, m, true)
			}
		case *tg.UpdateDeleteMessages:
			err = a.deleted(ctx, 0, u.Messages)
		case *tg.UpdateDeleteChannelMessages:
			err = a.deleted(ctx, u.ChannelID, u.Messages)
		case *tg.UpdateChannelTooLong:
			// A channel with more than the difference holds: read it
			// (followChannels, after this difference).
			a.marks.mark(u.ChannelID, 0)
		case *tg.UpdateMessageReactions:
			err = a.reacted(ctx, u)
		case *tg.UpdateUserStatus:
			err = a.status(ctx, u.UserID, u.Status)
		case *tg.UpdateUserTyping:
			a.typing(ctx, u.UserID, u.Action)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deliver passes one message (or its edit) to the core, retrying until it
// is stored.
func (a *account) deliver(ctx context.Context, m *tg.Message, edit bool) error {
	from, ok := addrOf(m.PeerID)
	if !ok {
		return nil
	}
	var r ref
	if p, ok := m.PeerID.(*tg.PeerChannel); ok {
		r.channel = p.ChannelID
	}
	r.id = m.ID
	recorded := false
	if m.Out {
		// Sent through the gateway (or a send's pending there), or edited
		// there to this text (another text is the user's edit in a
		// Telegram app).
		own, rec, err := a.ours().mine(ctx, from, r, m.Message, edit)
		if err != nil {
			return err
		}
		if own {
			return nil
		}
		recorded = rec
	}
	in := transports.Inbound{
		Account: a.addr(), From: from, ID: a.msgID(r), Body: m.Message,
		Time: time.Unix(int64(m.Date), 0), Name: a.peers.name(from), Own: m.Out,
	}
	if edit {
		// The edit's date is in seconds: with the new text's hash, two
		// edits within one second are two events, and one read again is
		// the same.
		in.Replaces = in.ID
		h := sha256.Sum256([]byte(m.Message))
		in.ID += ":e" + strconv.Itoa(m.EditDate) + ":" + hex.EncodeToString(h[:6])
	}
	if h, ok := m.ReplyTo.(*tg.MessageReplyHeader); ok && h.ReplyToMsgID != 0 {
		in.ReplyTo = a.msgID(ref{channel: r.channel, id: h.ReplyToMsgID})
	}
	switch m.PeerID.(type) {
	case *tg.PeerChat, *tg.PeerChannel:
		in.Group = true
		switch f := m.FromID.(type) {
		case *tg.PeerUser:
			// The room is every gateway user's in the group: never the
			// account's own name for a contact.
			in.SenderID = strconv.FormatInt(f.UserID, 10)
			in.Sender = a.peers.memberName(f.UserID)
		case nil, *tg.PeerChannel:
			// A channel's post: signed with its author's name, if the
			// channel signs them, else the channel's.
			in.SenderID = string(from)
			in.Sender = in.Name
			if m.PostAuthor != "" {
				in.Sender = m.PostAuthor
			}
		}
	}
	if f, ok := mediaOf(m); ok {
		if f.size > maxMedia {
			// No link, which could only answer 413: a note says why.
			in.Body = transports.WithNote(in.Body, transports.TooLargeNote(f.name, f.size, maxMedia, "Telegram"))
		} else {
			in.Media = []string{a.mediaURL(r, f.name)}
		}
	}
	if in.Body == "" && len(in.Media) == 0 {
		return nil // nothing the gateway relays
	}
	if err := a.rememberChat(ctx, r, from); err != nil {
		return err
	}
	if err := a.store(ctx, in); err != nil {
		return err
	}
	if recorded && edit {
		// The user's edit of a message sent through the gateway: the
		// message now has this text (an edit back to the sent one is
		// the user's too).
		return a.ours().retext(ctx, r, m.Message)
	}
	return nil
}

// chatsKept is how long the chat of a message outside channels is kept in
// the store, for a deletion that names only its id.
const chatsKept = 7 * 24 * time.Hour

func (a *account) chatKey(r ref) string {
	return "chat:" + string(a.addr()) + ":" + r.String()
}

// rememberChat records that message r is in chat: in memory, and, outside
// channels (a channel's deletions name it), in the store, so that a
// deletion read after a restart finds it.
func (a *account) rememberChat(ctx context.Context, r ref, chat transports.Addr) error {
	if !a.where.add(r, chat) || r.channel != 0 {
		return nil
	}
	if !retry(ctx, func(ctx context.Context) error {
		return a.t.p.State.SetUntil(ctx, a.chatKey(r), string(chat), time.Now().Add(chatsKept))
	}) {
		return ctx.Err()
	}
	return nil
}

// chatOfMessage returns the chat of message r, from memory or the store.
func (a *account) chatOfMessage(ctx context.Context, r ref) (transports.Addr, bool, error) {
	if chat, ok := a.where.get(r); ok {
		return chat, true, nil
	}
	if r.channel != 0 {
		return channelAddr(r.channel), true, nil
	}
	var v string
	if !retry(ctx, func(ctx context.Context) (err error) {
		v, err = a.t.p.State.Get(ctx, a.chatKey(r))
		return err
	}) {
		return "", false, ctx.Err()
	}
	return transports.Addr(v), v != "", nil
}

// deleted passes on the deletion of messages the account's contacts sent,
// in channel (0: the account's own box).
func (a *account) deleted(ctx context.Context, channel int64, ids []int) error {
	for _, id := range ids {
		r := ref{channel: channel, id: id}
		from, ok, err := a.chatOfMessage(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			continue // not known here
		}
		if own, err := a.ours().has(ctx, r); err != nil {
			return err
		} else if own {
			continue // the user's own
		}
		in := transports.Inbound{Account: a.addr(), From: from, ID: a.msgID(r) + ":d", Retracts: a.msgID(r)}
		if err := a.store(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// reacted passes on a contact's reactions to a message.
func (a *account) reacted(ctx context.Context, u *tg.UpdateMessageReactions) error {
	from, ok := addrOf(u.Peer)
	if !ok {
		return nil
	}
	var emoji []string
	for _, r := range u.Reactions.RecentReactions {
		if p, ok := r.PeerID.(*tg.PeerUser); ok && p.UserID == a.self.Load() {
			continue // the user's own
		}
		if e, ok := r.Reaction.(*tg.ReactionEmoji); ok {
			emoji = append(emoji, e.Emoticon)
		}
	}
	r := ref{id: u.MsgID}
	if p, ok := u.Peer.(*tg.PeerChannel); ok {
		r.channel = p.ChannelID
	}
	// Reactions come only pushed, never again in a difference: each update
	// is an event of its own, whatever its set (a set may come back: 👍,
	// then 👍❤, then 👍 again). One that leaves the contacts' set as it
	// was passed on last (the user's own reaction changed) is not passed on.
	set := strings.Join(emoji, "\x00")
	if a.reactions.same(r, set) {
		return nil
	}
	id := a.msgID(r) + ":r" + strconv.FormatInt(time.Now().UnixNano(), 36) + "." + strconv.FormatUint(reactionSeq.Add(1), 36)
	in := transports.Inbound{Account: a.addr(), From: from, ID: id, ReactTo: a.msgID(r), Reactions: emoji}
	if err := a.store(ctx, in); err != nil {
		return err
	}
	a.reactions.passed(r, set)
	return nil
}

// typing passes on that a contact is typing, best effort.
func (a *account) typing(ctx context.Context, user int64, action tg.SendMessageActionClass) {
	if _, ok := action.(*tg.SendMessageTypingAction); !ok {
		return
	}
	if n, ok := a.t.run.Load().sink.(transports.AccountSink); ok {
		if err := n.Typing(ctx, a.addr(), transports.Addr(strconv.FormatInt(user, 10))); err != nil {
			a.t.log.Debug("passing on typing failed", "user", a.user, "err", err)
		}
	}
}

// status passes on a contact's Telegram status as presence.
func (a *account) status(ctx context.Context, user int64, st tg.UserStatusClass) error {
	if user == a.self.Load() {
		return nil
	}
	n, ok := a.t.run.Load().sink.(transports.AccountSink)
	if !ok {
		return nil
	}
	online, seen := presenceOf(st)
	from := transports.Addr(strconv.FormatInt(user, 10))
	if !retry(ctx, func(ctx context.Context) error { return n.Presence(ctx, a.addr(), from, online, seen) }) {
		return ctx.Err()
	}
	return nil
}

// presenceOf reads a Telegram status: online, or when last seen (zero if
// hidden).
func presenceOf(st tg.UserStatusClass) (online bool, lastSeen time.Time) {
	switch st := st.(type) {
	case *tg.UserStatusOnline:
		return true, time.Time{}
	case *tg.UserStatusOffline:
		return false, time.Unix(int64(st.WasOnline), 0)
	}
	return false, time.Time{}
}

// store passes in to the core, retrying until it is stored (or reaches
// nobody), or ctx ends.
func (a *account) store(ctx context.Context, in transports.Inbound) error {
	sink := a.t.run.Load().sink
	if !retry(ctx, func(ctx context.Context) error {
		err := sink.Deliver(ctx, in)
		if errors.Is(err, transports.ErrNoRecipient) {
			return nil
		}
		if err != nil {
			a.t.log.Warn("storing a Telegram message failed; retrying", "user", a.user, "err", err)
		}
		return err
	}) {
		return ctx.Err()
	}
	return nil
}

func (a *account) loadState(ctx context.Context) (*syncState, error) {
	s, err := a.t.p.State.Get(ctx, keyState(a.user))
	if err != nil || s == "" {
		return nil, err
	}
	var st syncState
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, nil // unreadable: start from Telegram's state
	}
	return &st, nil
}

func (a *account) saveState(ctx context.Context, st *syncState) error {
	b, _ := json.Marshal(st)
	return a.t.p.State.Set(ctx, keyState(a.user), string(b))
}

// maxChatOf bounds the messages whose chat is remembered.
const maxChatOf = 10_000

// chatOf remembers the chat of recent messages: Telegram's deletions name
// message ids only. Bounded, oldest forgotten first.
type chatOf struct {
	mu    sync.Mutex
	chats map[ref]transports.Addr
	order []ref
}

// add records id's chat, and reports whether it was not known yet.
func (c *chatOf) add(id ref, chat transports.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chats == nil {
		c.chats = map[ref]transports.Addr{}
	}
	_, known := c.chats[id]
	if !known {
		c.order = append(c.order, id)
	}
	c.chats[id] = chat
	if len(c.order) > maxChatOf {
		delete(c.chats, c.order[0])
		c.order = c.order[1:]
	}
	return !known
}

func (c *chatOf) get(id ref) (transports.Addr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.chats[id]
	return a, ok
}

// reactionSeq numbers the reaction events of this run (their ids are also
// the time, for other runs').
var reactionSeq atomic.Uint64

// maxReactionSets bounds the messages whose last reaction set is kept.
const maxReactionSets = 4096

// reactionSets is, per message, the contacts' reaction set passed on last.
type reactionSets struct {
	mu   sync.Mutex
	last map[ref]string
}

// same reports whether set is the one passed on last for message r.
func (s *reactionSets) same(r ref, set string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.last[r]
	return ok && last == set
}

// passed records set as passed on for message r.
func (s *reactionSets) passed(r ref, set string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || len(s.last) >= maxReactionSets {
		s.last = map[ref]string{}
	}
	s.last[r] = set
}
