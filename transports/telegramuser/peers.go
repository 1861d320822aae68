package telegramuser

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gotd/td/constant"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// peer is a Telegram peer as an address names it.
type peer struct {
	user, chat, channel int64 // exactly one is set
}

// parsePeer reads an address as the Bot API (and TDLib) writes peer ids: "123"
// a user, "-123" a basic group, "-100123" the channel or supergroup 123.
func parsePeer(a transports.Addr) (peer, error) {
	n, err := strconv.ParseInt(string(a), 10, 64)
	id := constant.TDLibPeerID(n)
	switch {
	case err != nil || n == 0:
	case id.IsUser():
		return peer{user: n}, nil
	case id.IsChat():
		return peer{chat: -n}, nil
	case id.IsChannel():
		return peer{channel: id.ToPlain()}, nil
	}
	return peer{}, fmt.Errorf("%q is not a Telegram user, group or channel id", a)
}

// channelAddr is the address of channel id.
func channelAddr(id int64) transports.Addr {
	var p constant.TDLibPeerID
	p.Channel(id)
	return transports.Addr(strconv.FormatInt(int64(p), 10))
}

// addrOf is the address of a message's peer.
func addrOf(p tg.PeerClass) (transports.Addr, bool) {
	switch p := p.(type) {
	case *tg.PeerUser:
		return transports.Addr(strconv.FormatInt(p.UserID, 10)), true
	case *tg.PeerChat:
		return transports.Addr("-" + strconv.FormatInt(p.ChatID, 10)), true
	case *tg.PeerChannel:
		return channelAddr(p.ChannelID), true
	}
	return "", false
}

// peers keeps what the account has seen of users and groups: the access
// hashes requests need, and names. A "min" user or channel (one Telegram
// sends as mentioned in a message, e.g. where a post was forwarded from)
// has no usable access hash, and a min channel's "left" means nothing: it
// is kept apart, for its name only, and is never a peer or a membership.
type peers struct {
	mu          sync.Mutex
	users       map[int64]*tg.User
	chats       map[int64]*tg.Chat
	channels    map[int64]*tg.Channel
	minUsers    map[int64]*tg.User    // only names
	minChannels map[int64]*tg.Channel // only names
}

// maxMin bounds the min users and channels kept for their names.
const maxMin = 4096

func (p *peers) addUser(u *tg.User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Min {
		if _, ok := p.users[u.ID]; !ok {
			p.minUsers = keepMin(p.minUsers, u.ID, u)
		}
		return
	}
	if p.users == nil {
		p.users = map[int64]*tg.User{}
	}
	p.users[u.ID] = u
	delete(p.minUsers, u.ID)
}

func (p *peers) addChat(c *tg.Chat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chats == nil {
		p.chats = map[int64]*tg.Chat{}
	}
	p.chats[c.ID] = c
}

func (p *peers) addChannel(c *tg.Channel) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Min {
		if _, ok := p.channels[c.ID]; !ok {
			p.minChannels = keepMin(p.minChannels, c.ID, c)
		}
		return
	}
	if p.channels == nil {
		p.channels = map[int64]*tg.Channel{}
	}
	p.channels[c.ID] = c
	delete(p.minChannels, c.ID)
}

// keepMin adds v to m, starting m over when it is full.
func keepMin[T any](m map[int64]T, id int64, v T) map[int64]T {
	if m == nil || len(m) >= maxMin {
		m = map[int64]T{}
	}
	m[id] = v
	return m
}

// dropChannel forgets a channel the account can no longer read.
func (p *peers) dropChannel(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.channels, id)
}

// dropChat forgets a basic group the account is no longer in.
func (p *peers) dropChat(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.chats, id)
}

// add keeps the users, chats and channels of an answer.
func (p *peers) add(users []tg.UserClass, chats []tg.ChatClass) {
	for _, u := range users {
		if u, ok := u.(*tg.User); ok {
			p.addUser(u)
		}
	}
	for _, c := range chats {
		switch c := c.(type) {
		case *tg.Chat:
			p.addChat(c)
		case *tg.Channel:
			p.addChannel(c)
		case *tg.ChannelForbidden:
			p.dropChannel(c.ID)
		case *tg.ChatForbidden: // removed from the group
			p.dropChat(c.ID)
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
	switch {
	case pr.chat != 0:
		c, ok := p.chats[pr.chat]
		return &tg.InputPeerChat{ChatID: pr.chat}, ok && !c.Left && !c.Deactivated
	case pr.channel != 0:
		c, ok := p.channels[pr.channel]
		if !ok || c.Left {
			return nil, false
		}
		return &tg.InputPeerChannel{ChannelID: c.ID, AccessHash: c.AccessHash}, true
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

// channel returns the channel an address names, if the account is in it.
func (p *peers) channel(id int64) (*tg.Channel, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.channels[id]
	return c, ok && !c.Left
}

// joined lists the channels the account is in.
func (p *peers) joined() []*tg.Channel {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*tg.Channel
	for _, c := range p.channels {
		if !c.Left {
			out = append(out, c)
		}
	}
	return out
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

// name is a user's or group's display name, or "". A user's may be the
// account's own name for a contact: it is shown only to the account's
// user (in a room, memberName).
func (p *peers) name(a transports.Addr) string {
	pr, err := parsePeer(a)
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case pr.chat != 0:
		if c, ok := p.chats[pr.chat]; ok {
			return c.Title
		}
		return ""
	case pr.channel != 0:
		if c, ok := p.channels[pr.channel]; ok {
			return c.Title
		}
		if c, ok := p.minChannels[pr.channel]; ok {
			return c.Title
		}
		return ""
	}
	if u, ok := p.users[pr.user]; ok {
		return userName(u)
	}
	if u, ok := p.minUsers[pr.user]; ok {
		return userName(u)
	}
	return ""
}

// memberName is the name group member id is shown under in the group's
// room, which every gateway user in the group shares (its nicks, its
// occupants, its history): as name says, but never the account's own name
// for a contact (Telegram gives an account its contacts under the names
// its user saved for them): a contact's is their username, else their id
// (what a user whose account does not know them is shown, their address).
// "" if the account has not seen them.
func (p *peers) memberName(id int64) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.users[id]
	if !ok {
		u, ok = p.minUsers[id]
	}
	switch {
	case !ok:
		return ""
	case !u.Contact:
		return userName(u)
	case u.Username != "":
		return u.Username
	}
	return strconv.FormatInt(id, 10)
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
		return nil, lookupError(err)
	}
	if in, ok := a.peers.input(to); ok {
		return in, nil
	}
	if found, err := a.findPeer(ctx, to); err != nil {
		return nil, lookupError(err)
	} else if found {
		in, _ := a.peers.input(to)
		return in, nil
	}
	return nil, &transports.Error{Kind: transports.KindInvalidAddress, Provider: "telegram",
		Message: string(to) + " is not among your Telegram chats or contacts"}
}

// lookupError is a failed look-up of a chat, as the error of the send that
// needed it: the send waits and is tried again (KindUnavailable), unless
// the account's session is gone (KindAuth) or Telegram asks to wait
// (KindRateLimited). A look-up that fails never refuses a message.
func lookupError(err error) error {
	var e *transports.Error
	if !errors.As(sendError(err), &e) {
		return err
	}
	switch e.Kind {
	case transports.KindAuth, transports.KindRateLimited, transports.KindUnavailable:
		return e
	}
	u := *e
	u.Kind = transports.KindUnavailable
	u.Message = "looking the chat up failed: " + e.Message
	return &u
}
