package tguserfake

import (
	"fmt"
	"sync"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// floodRule makes the next times calls of one method fail.
type floodRule struct {
	seconds, times int
}

// FloodWait makes the next times calls of the RPC typeID (a
// tg.*RequestTypeID) fail with 420 FLOOD_WAIT_<seconds>. The server does
// not enforce the wait itself.
func (s *Server) FloodWait(typeID uint32, seconds, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times <= 0 {
		delete(s.flood, typeID)
		return
	}
	s.flood[typeID] = &floodRule{seconds: seconds, times: times}
}

// takeFlood uses up one FLOOD_WAIT of method id, nil if none is due.
// The caller holds s.mu.
func (s *Server) takeFlood(id uint32) *tgerr.Error {
	r := s.flood[id]
	if r == nil {
		return nil
	}
	r.times--
	if r.times <= 0 {
		delete(s.flood, id)
	}
	return tgerr.New(420, fmt.Sprintf("FLOOD_WAIT_%d", r.seconds))
}

// Fail makes every call of the RPC typeID fail with err, until Fail is
// called again with nil (which clears FailAfter too).
func (s *Server) Fail(typeID uint32, err *tgerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.fails, typeID)
		delete(s.failsAfter, typeID)
		return
	}
	s.fails[typeID] = err
}

// failAfter is a FailAfter rule: left more calls succeed, then all fail.
type failAfter struct {
	left int
	err  *tgerr.Error
}

// FailAfter lets the next n calls of the RPC typeID through, then makes
// every later one fail with err, until Fail(typeID, nil): Telegram
// breaking off in the middle of a download, say.
func (s *Server) FailAfter(typeID uint32, n int, err *tgerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failsAfter[typeID] = &failAfter{left: max(n, 0), err: err}
}

// HoldCalls makes calls of the RPC typeID wait, unanswered, until release
// is called (once is enough; later calls do nothing). A held call is
// acknowledged, and the connection's other calls are answered meanwhile,
// as Telegram does.
func (s *Server) HoldCalls(typeID uint32) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.holds[typeID] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.holds[typeID] == ch {
				delete(s.holds, typeID)
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Held is how many calls of the RPC typeID HoldCalls holds now.
func (s *Server) Held(typeID uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[typeID]
}

// Calls is how many RPCs clients made, not counting those a client makes
// on its own to stay in sync (help.getConfig, help.getNearestDc,
// updates.getState, updates.getDifference, updates.getChannelDifference).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsOf is how many calls of the RPC typeID (a tg.*RequestTypeID)
// clients made, those answered with an error included.
func (s *Server) CallsOf(typeID uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsOf[typeID]
}

// ownCall reports whether the RPC id is one a client makes on its own.
func ownCall(id uint32) bool {
	switch id {
	case tg.HelpGetConfigRequestTypeID, tg.HelpGetNearestDCRequestTypeID,
		tg.UpdatesGetStateRequestTypeID, tg.UpdatesGetDifferenceRequestTypeID,
		tg.UpdatesGetChannelDifferenceRequestTypeID:
		return true
	}
	return false
}

// Revoke forgets every authorization of user, as a session terminated
// from another device: later calls from those auth keys that need a user
// get 401 AUTH_KEY_UNREGISTERED (the keys can log in again).
func (s *Server) Revoke(user int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, k := range s.keys {
		if k.user == user || k.pending == user {
			delete(s.keys, id)
		}
	}
	s.log.Info("tguserfake: authorizations revoked", "user", user)
}

// Disconnect cuts the TCP connections of user's sessions; clients
// reconnect with the same auth key.
func (s *Server) Disconnect(user int64) {
	s.mu.Lock()
	var cut []tgtest.Session
	for id, ss := range s.sessions {
		if k := s.keys[ss.key]; k != nil && k.user == user {
			cut = append(cut, ss.s)
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
	for _, ss := range cut {
		s.srv.ForceDisconnect(ss)
	}
	s.log.Info("tguserfake: sessions disconnected", "user", user, "sessions", len(cut))
}

// Hold stops (on) or resumes pushing updates to user's sessions. Held
// updates are still logged (pts advances); a client gets them only with
// updates.getDifference, or updates.getChannelDifference for a channel's.
// Updates outside the logs (typing, status, reactions) are dropped while
// held.
func (s *Server) Hold(user int64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.users[user]; a != nil {
		a.hold = on
	}
}
