package tguserfake

import (
	"sort"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
)

// differenceLimit is the most updates one updates.getDifference returns.
const differenceLimit = 100

// refs are the users and chats an update mentions.
type refs struct{ users, chats []int64 }

func (r *refs) add(o refs) {
	r.users = append(r.users, o.users...)
	r.chats = append(r.chats, o.chats...)
}

// tx collects the pushes of one state change; see Server.change.
type tx struct {
	s   *Server
	out []outbound
}

// outbound is one tg.Updates for one user, with the sessions to try:
// for each auth key, its sessions, most recently active first.
type outbound struct {
	user    int64
	updates *tg.Updates
	keys    [][]tgtest.Session
}

// change runs f under s.mu and then sends the pushes it made, in order.
// Changes are serialized with their pushes, so pts order is kept.
func (s *Server) change(f func(t *tx)) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	s.mu.Lock()
	t := &tx{s: s}
	f(t)
	out := t.out
	s.mu.Unlock()
	s.deliver(out)
}

// record appends e to user's log, advancing their pts by e.ptsCount.
func (t *tx) record(a *account, e entry) entry {
	a.pts += e.ptsCount
	e.pts = a.pts
	if e.date.IsZero() {
		e.date = time.Now()
	}
	a.log = append(a.log, e)
	return e
}

// recordAndPush records e for a and pushes it to a's sessions except
// those of auth key except.
func (t *tx) recordAndPush(a *account, except [8]byte, e entry) entry {
	e = t.record(a, e)
	u, r := t.s.renderEntry(a, &e)
	t.push(a.ID, except, u, r)
	return e
}

// push queues u for every auth key logged in as user (but except), unless
// the user is held. The caller holds s.mu.
func (t *tx) push(user int64, except [8]byte, u tg.UpdateClass, r refs) {
	s := t.s
	a := s.users[user]
	if a == nil || a.hold {
		return
	}
	byKey := map[[8]byte][]*mtSession{}
	for _, ss := range s.sessions {
		if ss.noUpdates || ss.key == except {
			continue
		}
		if k := s.keys[ss.key]; k != nil && k.user == user {
			byKey[ss.key] = append(byKey[ss.key], ss)
		}
	}
	if len(byKey) == 0 {
		return
	}
	o := outbound{user: user}
	for _, list := range byKey {
		sort.Slice(list, func(i, j int) bool { return list[i].seen > list[j].seen })
		sessions := make([]tgtest.Session, len(list))
		for i, ss := range list {
			sessions[i] = ss.s
		}
		o.keys = append(o.keys, sessions)
	}
	o.updates = &tg.Updates{
		Updates: []tg.UpdateClass{u},
		Users:   s.renderUsers(user, uniq(append(r.users, user))),
		Chats:   s.renderChats(user, uniq(r.chats)),
		Date:    int(time.Now().Unix()),
	}
	t.out = append(t.out, o)
}

// deliver sends each push to one live session per auth key, forgetting
// sessions whose connection is gone.
func (s *Server) deliver(out []outbound) {
	var dead []int64
	for _, o := range out {
		for _, sessions := range o.keys {
			for _, ss := range sessions {
				err := s.srv.Send(s.ctx, ss, tgtest.MessageFromServer, o.updates)
				if err == nil {
					break
				}
				s.log.Debug("tguserfake: push failed; session dropped", "user", o.user, "session", ss.ID, "err", err)
				dead = append(dead, ss.ID)
			}
		}
	}
	if len(dead) > 0 {
		s.mu.Lock()
		for _, id := range dead {
			delete(s.sessions, id)
		}
		s.mu.Unlock()
	}
}

// uniq drops zero and repeated ids, keeping order.
func uniq(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// renderEntry is a log entry as a fresh tg update for a.
// The caller holds s.mu.
func (s *Server) renderEntry(a *account, e *entry) (tg.UpdateClass, refs) {
	switch e.kind {
	case entryNewMessage, entryEditMessage:
		m := s.message(e.msgID)
		msg, r := s.renderMessage(a.ID, m)
		if e.kind == entryNewMessage {
			return &tg.UpdateNewMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}, r
		}
		return &tg.UpdateEditMessage{Message: msg, Pts: e.pts, PtsCount: e.ptsCount}, r
	case entryDeleteMessages:
		return &tg.UpdateDeleteMessages{Messages: append([]int(nil), e.ids...), Pts: e.pts, PtsCount: e.ptsCount}, refs{}
	case entryReadInbox:
		return &tg.UpdateReadHistoryInbox{
			Peer: renderPeer(e.peer), MaxID: e.maxID, StillUnreadCount: e.unread, Pts: e.pts, PtsCount: e.ptsCount,
		}, peerRefs(e.peer)
	default: // entryReadOutbox
		return &tg.UpdateReadHistoryOutbox{Peer: renderPeer(e.peer), MaxID: e.maxID, Pts: e.pts, PtsCount: e.ptsCount}, peerRefs(e.peer)
	}
}

// state is a's current updates.state.
func (s *Server) state(a *account) tg.UpdatesState {
	return tg.UpdatesState{Pts: a.pts, Date: int(time.Now().Unix()), UnreadCount: s.unreadTotal(a)}
}

// updatesGetState answers updates.getState.
func (s *Server) updatesGetState(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(_ *tg.UpdatesGetStateRequest, me *account) (bin.Encoder, error) {
		st := s.state(me)
		return &st, nil
	})
}

// updatesGetDifference answers updates.getDifference from the caller's
// log: new messages (still in the box) in NewMessages, everything else in
// OtherUpdates, at most differenceLimit (or pts_total_limit) per call.
func (s *Server) updatesGetDifference(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.UpdatesGetDifferenceRequest, me *account) (bin.Encoder, error) {
		s.log.Debug("tguserfake: difference", "user", me.ID, "from_pts", r.Pts, "pts", me.pts)
		if r.Pts >= me.pts {
			return &tg.UpdatesDifferenceEmpty{Date: int(time.Now().Unix())}, nil
		}
		limit := differenceLimit
		if r.PtsTotalLimit > 0 && r.PtsTotalLimit < limit {
			limit = r.PtsTotalLimit
		}
		start := sort.Search(len(me.log), func(i int) bool { return me.log[i].pts > r.Pts })
		end := min(start+limit, len(me.log))

		var (
			msgs  = []tg.MessageClass{}
			other = []tg.UpdateClass{}
			all   refs
		)
		for i := start; i < end; i++ {
			e := &me.log[i]
			if e.kind == entryNewMessage {
				m := s.message(e.msgID)
				if m == nil || !m.visibleTo(me.ID) {
					continue
				}
				msg, mr := s.renderMessage(me.ID, m)
				msgs = append(msgs, msg)
				all.add(mr)
				continue
			}
			u, ur := s.renderEntry(me, e)
			other = append(other, u)
			all.add(ur)
		}
		users := s.renderUsers(me.ID, uniq(append(all.users, me.ID)))
		chats := s.renderChats(me.ID, uniq(all.chats))
		st := s.state(me)
		if end < len(me.log) {
			st.Pts = me.log[end-1].pts
			return &tg.UpdatesDifferenceSlice{
				NewMessages: msgs, NewEncryptedMessages: []tg.EncryptedMessageClass{},
				OtherUpdates: other, Users: users, Chats: chats, IntermediateState: st,
			}, nil
		}
		return &tg.UpdatesDifference{
			NewMessages: msgs, NewEncryptedMessages: []tg.EncryptedMessageClass{},
			OtherUpdates: other, Users: users, Chats: chats, State: st,
		}, nil
	})
}

// changeIn runs f in a change as the caller's account, on the chat in
// names; an error of either is the RPC's.
func (s *Server) changeIn(c *call, in tg.InputPeerClass, f func(t *tx, me *account, peer Peer) (bin.Encoder, error)) (bin.Encoder, error) {
	return changeAs(s, c, func(me *account) (Peer, error) { return s.inputPeer(me.ID, in) }, f)
}

// changeAs runs f in a change as the caller's account, on what resolve
// reads for that account; an error of any is the RPC's.
func changeAs[T any](s *Server, c *call, resolve func(me *account) (T, error), f func(t *tx, me *account, on T) (bin.Encoder, error)) (bin.Encoder, error) {
	var res bin.Encoder
	var rpcErr error
	s.change(func(t *tx) {
		me, err := c.account()
		if err != nil {
			rpcErr = err
			return
		}
		on, err := resolve(me)
		if err != nil {
			rpcErr = err
			return
		}
		res, rpcErr = f(t, me, on)
	})
	return res, rpcErr
}
