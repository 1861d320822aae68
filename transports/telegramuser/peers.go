package telegramuser

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// peer is a Telegram peer as an address names it.
type peer struct {
	user, chat int64 // exactly one is set
}

// parsePeer reads an address: "123" a user, "-123" a basic group.
func parsePeer(a transports.Addr) (peer, error) {
	n, err := strconv.ParseInt(string(a), 10, 64)
	switch {
	case err != nil || n == 0:
		return peer{}, fmt.Errorf("%q is not a Telegram user or group id", a)
	case n < 0:
		return peer{chat: -n}, nil
	}
	return peer{user: n}, nil
}

// addrOf is the address of a message's peer.
func addrOf(p tg.PeerClass) (transports.Addr, bool) {
	switch p := p.(type) {
	case *tg.PeerUser:
		return transports.Addr(strconv.FormatInt(p.UserID, 10)), true
	case *tg.PeerChat:
		return transports.Addr("-" + strconv.FormatInt(p.ChatID, 10)), true
	}
	return "", false // channels are not bridged yet
}

// peers keeps what the account has seen of users and groups: the access
// hashes requests need, and names.
type peers struct {
	mu    sync.Mutex
	users map[int64]*tg.User
	chats map[int64]*tg.Chat
}

func (p *peers) addUser(u *tg.User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = map[int64]*tg.User{}
	}
	if old, ok := p.users[u.ID]; ok && u.Min {
		_ = old // a min user lacks the access hash: keep the full one
		return
	}
	p.users[u.ID] = u
}

func (p *peers) addChat(c *tg.Chat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chats == nil {
		p.chats = map[int64]*tg.Chat{}
	}
	p.chats[c.ID] = c
}

// add keeps the users and chats of an answer.
func (p *peers) add(users []tg.UserClass, chats []tg.ChatClass) {
	for _, u := range users {
		if u, ok := u.(*tg.User); ok {
			p.addUser(u)
		}
	}
	for _, c := range chats {
		if c, ok := c.(*tg.Chat); ok {
			p.addChat(c)
		}
	}
}

// input returns the InputPeer of an address, if the account has seen it.
func (p *peers) input(a transports.Addr) (tg.InputPeerClass, bool) {
	pr, err := parsePeer(a)
	if err != nil {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.chat != 0 {
		c, ok := p.chats[pr.chat]
		return &tg.InputPeerChat{ChatID: pr.chat}, ok && !c.Left && !c.Deactivated
	}
	u, ok := p.users[pr.user]
	if !ok {
		return nil, false
	}
	if u.Self {
		return &tg.InputPeerSelf{}, true
	}
	return &tg.InputPeerUser{UserID: u.ID, AccessHash: u.AccessHash}, true
}

// user returns the user an address names, if the account has seen it.
func (p *peers) user(a transports.Addr) *tg.User {
	pr, err := parsePeer(a)
	if err != nil || pr.user == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[pr.user]
}

// name is a user's or group's display name, or "".
func (p *peers) name(a transports.Addr) string {
	pr, err := parsePeer(a)
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.chat != 0 {
		if c, ok := p.chats[pr.chat]; ok {
			return c.Title
		}
		return ""
	}
	if u, ok := p.users[pr.user]; ok {
		return userName(u)
	}
	return ""
}

// userName is a user's first and last name, or their username.
func userName(u *tg.User) string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Username
}

// resolve returns the InputPeer of an address, reading the account's
// dialogs and contacts if it has not seen it yet.
func (a *account) resolve(ctx context.Context, to transports.Addr) (tg.InputPeerClass, error) {
	if in, ok := a.peers.input(to); ok {
		return in, nil
	}
	if _, err := a.contacts(ctx); err != nil {
		return nil, err
	}
	if in, ok := a.peers.input(to); ok {
		return in, nil
	}
	return nil, &transports.Error{Kind: transports.KindInvalidAddress, Provider: "telegram",
		Message: string(to) + " is not among your Telegram chats or contacts"}
}
