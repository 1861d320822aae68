package tguserfake

import (
	"sort"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// AddUser creates an account and returns it with ID and AccessHash
// filled. A user whose ID or phone is taken is not added: the existing one
// is returned.
func (s *Server) AddUser(u User) User {
	var v *srpAccount
	if u.Password != "" {
		v = newSRPAccount(u.Password) // slow (PBKDF2): outside the lock
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	phone := phoneKey(u.Phone)
	if id, ok := s.byPhone[phone]; ok && phone != "" {
		s.log.Error("tguserfake: AddUser: phone taken", "phone", u.Phone, "user", id)
		return s.users[id].User
	}
	if u.ID == 0 {
		for s.users[s.nextUserID] != nil {
			s.nextUserID++
		}
		u.ID = s.nextUserID
		s.nextUserID++
	} else if old := s.users[u.ID]; old != nil {
		s.log.Error("tguserfake: AddUser: id taken", "user", u.ID)
		return old.User
	}
	if u.AccessHash == 0 {
		u.AccessHash = randInt63()
	}
	if phone != "" {
		u.Phone = "+" + phone
	}
	a := &account{
		User:       u,
		srp:        v,
		pts:        1,
		lastSeen:   time.Now(),
		contacts:   map[int64]bool{},
		readInbox:  map[Peer]int{},
		lastRead:   map[Peer]int{},
		typingSeen: map[Peer]int{},
		randomIDs:  map[int64]int{},
	}
	if len(u.Photo) > 0 {
		a.photo = s.newMedia(true, "photo.jpg", "image/jpeg", u.Photo)
	}
	s.users[u.ID] = a
	if phone != "" {
		s.byPhone[phone] = u.ID
	}
	s.log.Info("tguserfake: user added", "user", u.ID, "phone", u.Phone)
	return u
}

// AddContact puts contact in owner's contact list (contacts.getContacts).
func (s *Server) AddContact(owner, contact int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[owner]
	if a == nil || s.users[contact] == nil {
		s.log.Error("tguserfake: AddContact: unknown user", "owner", owner, "contact", contact)
		return
	}
	a.contacts[contact] = true
}

// SetOnline changes user's status and pushes UpdateUserStatus to the
// users who have them as a contact.
func (s *Server) SetOnline(user int64, online bool) {
	s.change(func(t *tx) {
		t.setOnline(user, online)
	})
}

// setOnline is SetOnline inside a change.
func (t *tx) setOnline(user int64, online bool) {
	s := t.s
	a := s.users[user]
	if a == nil {
		s.log.Error("tguserfake: SetOnline: unknown user", "user", user)
		return
	}
	a.online = online
	a.lastSeen = time.Now()
	for _, id := range s.sortedUserIDs() {
		if o := s.users[id]; o.contacts[user] {
			t.push(id, [8]byte{}, &tg.UpdateUserStatus{UserID: user, Status: s.renderStatus(a)}, refs{users: []int64{user}})
		}
	}
}

// sortedUserIDs is every user id, ascending. The caller holds s.mu.
func (s *Server) sortedUserIDs() []int64 {
	ids := make([]int64, 0, len(s.users))
	for id := range s.users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// renderStatus is a user's status as others see it.
func (s *Server) renderStatus(a *account) tg.UserStatusClass {
	if a.online {
		return &tg.UserStatusOnline{Expires: int(time.Now().Add(5 * time.Minute).Unix())}
	}
	return &tg.UserStatusOffline{WasOnline: int(a.lastSeen.Unix())}
}

// renderUser is user id as viewer sees it. The caller holds s.mu.
func (s *Server) renderUser(viewer, id int64) tg.UserClass {
	a := s.users[id]
	if a == nil {
		return &tg.UserEmpty{ID: id}
	}
	v := s.users[viewer]
	u := &tg.User{
		Self:       viewer == id,
		ID:         a.ID,
		AccessHash: a.AccessHash,
		FirstName:  a.FirstName,
		LastName:   a.LastName,
		Username:   a.Username,
		Phone:      strings.TrimPrefix(a.Phone, "+"),
		Status:     s.renderStatus(a),
	}
	if viewer == id {
		u.Status = &tg.UserStatusOnline{Expires: int(time.Now().Add(5 * time.Minute).Unix())}
	}
	if v != nil && v.contacts[id] {
		u.Contact = true
		u.MutualContact = a.contacts[viewer]
	}
	if a.photo != nil {
		u.Photo = &tg.UserProfilePhoto{PhotoID: a.photo.id, DCID: dcID}
	}
	return u
}

// renderUsers renders ids for viewer, skipping unknown ones.
func (s *Server) renderUsers(viewer int64, ids []int64) []tg.UserClass {
	out := make([]tg.UserClass, 0, len(ids))
	for _, id := range ids {
		if s.users[id] != nil {
			out = append(out, s.renderUser(viewer, id))
		}
	}
	return out
}

// inputUser resolves an InputUser for viewer. The caller holds s.mu.
func (s *Server) inputUser(viewer int64, in tg.InputUserClass) (*account, error) {
	var id, hash int64
	switch u := in.(type) {
	case *tg.InputUserSelf:
		return s.users[viewer], nil
	case *tg.InputUser:
		id, hash = u.UserID, u.AccessHash
	case *tg.InputUserFromMessage:
		id = u.UserID
		hash = 0
		if a := s.users[id]; a != nil {
			hash = a.AccessHash
		}
	default:
		return nil, tgerr.New(400, "USER_ID_INVALID")
	}
	a := s.users[id]
	if a == nil || (a.AccessHash != hash && id != viewer) {
		return nil, tgerr.New(400, "USER_ID_INVALID")
	}
	return a, nil
}

// usersGetUsers answers users.getUsers; unknown users are left out.
func (s *Server) usersGetUsers(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.UsersGetUsersRequest, me *account) (bin.Encoder, error) {
		out := &tg.UserClassVector{}
		for _, in := range r.ID {
			if a, err := s.inputUser(me.ID, in); err == nil {
				out.Elems = append(out.Elems, s.renderUser(me.ID, a.ID))
			}
		}
		return out, nil
	})
}

// usersGetFullUser answers users.getFullUser.
func (s *Server) usersGetFullUser(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.UsersGetFullUserRequest, me *account) (bin.Encoder, error) {
		a, err := s.inputUser(me.ID, r.ID)
		if err != nil {
			return nil, err
		}
		full := tg.UserFull{
			ID:               a.ID,
			Settings:         tg.PeerSettings{},
			NotifySettings:   tg.PeerNotifySettings{},
			CommonChatsCount: s.commonChats(me.ID, a.ID),
		}
		if a.photo != nil {
			full.ProfilePhoto = renderPhoto(a.photo)
		}
		return &tg.UsersUserFull{
			FullUser: full,
			Chats:    []tg.ChatClass{},
			Users:    []tg.UserClass{s.renderUser(me.ID, a.ID)},
		}, nil
	})
}

// commonChats counts the groups and channels both users are in.
func (s *Server) commonChats(a, b int64) int {
	n := 0
	for _, ch := range s.chats {
		if ch.has(a) && ch.has(b) {
			n++
		}
	}
	for _, ch := range s.channels {
		if ch.has(a) && ch.has(b) {
			n++
		}
	}
	return n
}

// contactsGetContacts answers contacts.getContacts.
func (s *Server) contactsGetContacts(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(_ *tg.ContactsGetContactsRequest, me *account) (bin.Encoder, error) {
		ids := make([]int64, 0, len(me.contacts))
		for id := range me.contacts {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		out := &tg.ContactsContacts{Contacts: []tg.Contact{}, Users: s.renderUsers(me.ID, ids)}
		for _, id := range ids {
			out.Contacts = append(out.Contacts, tg.Contact{UserID: id, Mutual: s.users[id].contacts[me.ID]})
		}
		return out, nil
	})
}

// contactsResolveUsername answers contacts.resolveUsername for users.
func (s *Server) contactsResolveUsername(c *call) (bin.Encoder, error) {
	return readAs(s, c, func(r *tg.ContactsResolveUsernameRequest, me *account) (bin.Encoder, error) {
		name := strings.ToLower(strings.TrimPrefix(r.Username, "@"))
		for _, id := range s.sortedUserIDs() {
			if a := s.users[id]; a.Username != "" && strings.ToLower(a.Username) == name {
				return &tg.ContactsResolvedPeer{
					Peer:  &tg.PeerUser{UserID: id},
					Chats: []tg.ChatClass{},
					Users: []tg.UserClass{s.renderUser(me.ID, id)},
				}, nil
			}
		}
		return nil, tgerr.New(400, "USERNAME_NOT_OCCUPIED")
	})
}

// accountUpdateStatus answers account.updateStatus like SetOnline.
func (s *Server) accountUpdateStatus(c *call) (bin.Encoder, error) {
	r, err := decode[tg.AccountUpdateStatusRequest](c)
	if err != nil {
		return nil, err
	}
	var rpcErr error
	s.change(func(t *tx) {
		if _, rpcErr = c.account(); rpcErr == nil {
			t.setOnline(c.user, !r.Offline)
		}
	})
	if rpcErr != nil {
		return nil, rpcErr
	}
	return &tg.BoolTrue{}, nil
}
