package telegramuser

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// contacts reads the account's contacts and dialogs: the private chats
// and groups, then the contacts, each once, without the account itself.
func (a *account) contacts(ctx context.Context) ([]transports.Contact, error) {
	api := a.api()
	var out []transports.Contact
	seen := map[transports.Addr]bool{}
	addUser := func(u *tg.User) {
		a.peers.addUser(u)
		addr, _ := addrOf(&tg.PeerUser{UserID: u.ID})
		if u.Self || u.Deleted || seen[addr] {
			return
		}
		seen[addr] = true
		out = append(out, transports.Contact{Addr: addr, Name: userName(u)})
	}
	dialogs, err := api.MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 100})
	if err != nil {
		return nil, err
	}
	var users []tg.UserClass
	var chats []tg.ChatClass
	var peersOrder []tg.PeerClass
	switch d := dialogs.(type) {
	case *tg.MessagesDialogs:
		users, chats = d.Users, d.Chats
		for _, dl := range d.Dialogs {
			peersOrder = append(peersOrder, dl.GetPeer())
		}
	case *tg.MessagesDialogsSlice:
		users, chats = d.Users, d.Chats
		for _, dl := range d.Dialogs {
			peersOrder = append(peersOrder, dl.GetPeer())
		}
	}
	a.peers.add(users, chats)
	byID := map[int64]*tg.User{}
	for _, u := range users {
		if u, ok := u.(*tg.User); ok {
			byID[u.ID] = u
		}
	}
	groups := map[int64]*tg.Chat{}
	for _, c := range chats {
		if c, ok := c.(*tg.Chat); ok && !c.Left && !c.Deactivated {
			groups[c.ID] = c
		}
	}
	for _, p := range peersOrder {
		switch p := p.(type) {
		case *tg.PeerUser:
			if u := byID[p.UserID]; u != nil {
				addUser(u)
			}
		case *tg.PeerChat:
			if c := groups[p.ChatID]; c != nil {
				addr, _ := addrOf(p)
				if !seen[addr] {
					seen[addr] = true
					out = append(out, transports.Contact{Addr: addr, Name: c.Title})
				}
			}
		}
	}
	cs, err := api.ContactsGetContacts(ctx, 0)
	if err != nil {
		return nil, err
	}
	if c, ok := cs.(*tg.ContactsContacts); ok {
		for _, u := range c.Users {
			if u, ok := u.(*tg.User); ok {
				addUser(u)
			}
		}
	}
	return out, nil
}

// syncContacts gives the core the account's contacts it has not been given
// before, and remembers them once the core has them.
func (a *account) syncContacts(ctx context.Context) error {
	rs := a.t.run.Load()
	sink, ok := rs.sink.(transports.AccountSink)
	if !ok {
		return nil
	}
	all, err := a.contacts(ctx)
	if err != nil {
		return err
	}
	var known []transports.Addr
	if s, err := a.t.p.State.Get(ctx, keyContacts(a.user)); err != nil {
		return err
	} else if s != "" {
		_ = json.Unmarshal([]byte(s), &known)
	}
	var fresh []transports.Contact
	for _, c := range all {
		if !slices.Contains(known, c.Addr) {
			fresh = append(fresh, c)
			known = append(known, c.Addr)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if err := sink.Contacts(ctx, a.addr(), fresh); err != nil {
		return err
	}
	for _, c := range fresh {
		if u := a.peers.user(c.Addr); u != nil && u.Status != nil {
			online, seen := presenceOf(u.Status)
			if err := sink.Presence(ctx, a.addr(), c.Addr, online, seen); err != nil {
				return err
			}
		}
	}
	b, _ := json.Marshal(known)
	return a.t.p.State.Set(ctx, keyContacts(a.user), string(b))
}
