package telegramuser

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/gotd/td/telegram/query/dialogs"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// dialogList is the account's chats, most recent first: their peers, and
// each channel's state.
type dialogList struct {
	peers    []tg.PeerClass
	users    map[int64]*tg.User
	titles   map[transports.Addr]string // the groups' and channels' the account is in
	channels map[int64]channelState     // each channel's pts and top message now
}

// dialogs reads the account's last 100 chats, keeping their users, groups
// and channels in a.peers.
func (a *account) dialogs(ctx context.Context) (dialogList, error) {
	res, err := a.api().MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}, Limit: 100})
	if err != nil {
		return dialogList{}, err
	}
	var list []tg.DialogClass
	var users []tg.UserClass
	var chats []tg.ChatClass
	switch d := res.(type) {
	case *tg.MessagesDialogs:
		list, users, chats = d.Dialogs, d.Users, d.Chats
	case *tg.MessagesDialogsSlice:
		list, users, chats = d.Dialogs, d.Users, d.Chats
	}
	a.peers.add(users, chats)
	out := dialogList{users: map[int64]*tg.User{}, titles: map[transports.Addr]string{}, channels: map[int64]channelState{}}
	for _, u := range users {
		if u, ok := u.(*tg.User); ok {
			out.users[u.ID] = u
		}
	}
	for _, c := range chats {
		switch c := c.(type) {
		case *tg.Chat:
			if !c.Left && !c.Deactivated {
				out.titles[transports.Addr("-"+strconv.FormatInt(c.ID, 10))] = c.Title
			}
		case *tg.Channel:
			if !c.Left && !c.Min {
				out.titles[channelAddr(c.ID)] = c.Title
			}
		}
	}
	for _, dl := range list {
		out.peers = append(out.peers, dl.GetPeer())
		if d, ok := dl.(*tg.Dialog); ok {
			if p, ok := d.Peer.(*tg.PeerChannel); ok && d.Pts > 0 {
				if _, in := out.titles[channelAddr(p.ChannelID)]; in {
					out.channels[p.ChannelID] = channelState{Pts: d.Pts, Top: d.TopMessage}
				}
			}
		}
	}
	return out, nil
}

// contacts reads the account's contacts and dialogs: the private chats,
// groups and channels, then the contacts, each once, without the account
// itself.
func (a *account) contacts(ctx context.Context) ([]transports.Contact, error) {
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
	d, err := a.dialogs(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range d.peers {
		if p, ok := p.(*tg.PeerUser); ok {
			if u := d.users[p.UserID]; u != nil {
				addUser(u)
			}
			continue
		}
		addr, ok := addrOf(p)
		if title, in := d.titles[addr]; ok && in && !seen[addr] {
			seen[addr] = true
			out = append(out, transports.Contact{Addr: addr, Name: title})
		}
	}
	cs, err := a.api().ContactsGetContacts(ctx, 0)
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

// maxLookupDialogs bounds the dialogs findPeer reads: 20 pages of 100.
const maxLookupDialogs = 2000

// findPeer reads the account's dialogs, page after page (gotd's dialogs
// iterator), the main list then the archive, keeping their users, groups
// and channels in a.peers, until to is among them, they end, or
// maxLookupDialogs were read. It reports
// whether to was found. After a restart the account knows only the chats
// it has read since: a chat older than its last 100 is found here.
func (a *account) findPeer(ctx context.Context, to transports.Addr) (bool, error) {
	n := 0
	for _, folder := range []int{0, 1} { // the main list, then the archive
		q := dialogs.NewQueryBuilder(a.api()).GetDialogs().BatchSize(100)
		if folder != 0 {
			q = q.FolderID(folder)
		}
		found, err := a.findIn(ctx, q.Iter(), to, &n)
		if found || err != nil {
			return found, err
		}
	}
	return false, nil
}

// findIn is findPeer in one folder's dialogs; n counts those read.
func (a *account) findIn(ctx context.Context, it *dialogs.Iterator, to transports.Addr, n *int) (bool, error) {
	for ; *n < maxLookupDialogs && it.Next(ctx); *n++ {
		el := it.Value()
		switch p := el.Dialog.GetPeer().(type) {
		case *tg.PeerUser:
			if u, ok := el.Entities.User(p.UserID); ok {
				a.peers.addUser(u)
			}
		case *tg.PeerChat:
			if c, ok := el.Entities.Chat(p.ChatID); ok {
				a.peers.addChat(c)
			}
		case *tg.PeerChannel:
			if c, ok := el.Entities.Channel(p.ChannelID); ok {
				a.peers.add(nil, []tg.ChatClass{c})
			}
		}
		if _, ok := a.peers.input(to); ok {
			return true, nil
		}
	}
	return false, it.Err()
}
