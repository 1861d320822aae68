package muc

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// A team inbox's room keeps its last inboxHistory messages (for XEP-0313)
// and sends the last inboxJoinHistory to a member who joins.
const (
	inboxHistory     = 500
	inboxJoinHistory = 20
)

// addressed is a member's text that starts with the number it is for:
// "+15557654321: on my way".
var addressed = regexp.MustCompile(`^\s*(\+[0-9][0-9 ().-]{5,20})\s*:\s*(.*)$`)

// InboxInbound implements core.InboxSink: the text appears in the room
// from its sender, under the address book's name or the number (a nick
// the store keeps apart from others), for every member in the room.
func (r *rooms) InboxInbound(ctx context.Context, in transports.Inbound, box transports.Inbox, room jid.JID, contact string) (core.RoomDelivery, error) {
	d := core.RoomDelivery{Keep: inboxHistory}
	name := r.c.ContactName(contact)
	if name == "" {
		name = string(in.From)
	}
	if j, err := room.WithResource(name); err == nil {
		name = j.Resourcepart()
	} else {
		name = string(in.From)
	}
	nick, err := r.c.Store().Rooms().RoomNick(ctx, r.c.Name(), box.Room, string(in.From), name)
	if err != nil {
		return d, err
	}
	d.Sender, d.From = nick, occupantJID(room, nick)
	d.Done = r.turns.order.lock(room.String())
	r.audience(&d, room, r.joined.all(room.String()))
	in.From = transports.Addr(box.Room) // the history is the room's
	d.History = historyEntries(in, nick)
	return d, nil
}

// inboxMessage sends a member's groupchat message to the number it is for,
// from the inbox's number: the sender of the text it replies to (XEP-0461),
// or the number it starts with. Once stored, the room's history keeps it
// and every member in the room sees it, from its writer, with whom it went
// to: the sender's resources after prev (the answers of the sender's last
// join: see message), the others at once, each after its own join's
// answers (occupants.joiningOf); by the routes of order.go, so that
// everyone sees the room in the history's order. A resend (found queued
// already) is shown again to the sender's resources only, which may not
// have had it. A message for nobody gets a hint.
func (r *rooms) inboxMessage(ctx context.Context, w router.Writer, s *router.Stanza, box transports.Inbox, prev *answers) error {
	room := s.To.Bare()
	nick, ok := r.joined.nick(room.String(), s.From.String())
	if !ok {
		return stanza.NewError("modify", "not-acceptable", "join the room before writing to it")
	}
	var m struct {
		Body  string           `xml:"body"`
		Reply *stanza.ReplyRef `xml:"urn:xmpp:reply:0 reply"`
		Fall  *struct {
			For string `xml:"for,attr"`
		} `xml:"urn:xmpp:fallback:0 fallback"`
	}
	if err := s.Decode(&m); err != nil {
		return err
	}
	body := m.Body
	var to transports.Addr
	if m.Reply != nil {
		sctx, cancel := context.WithTimeout(ctx, storeTimeout)
		e, found, err := r.c.Store().Rooms().RoomEntryOf(sctx, r.c.Name(), box.Room, m.Reply.ID)
		var holder string
		if err == nil && found {
			holder, found, err = r.c.Store().Rooms().NickHolder(sctx, r.c.Name(), box.Room, e.Sender)
		}
		cancel()
		switch {
		case err != nil:
			return core.StoreError(err)
		case found:
			to = transports.Addr(holder)
			body = withoutQuote(body)
		}
	}
	if to == "" {
		if g := addressed.FindStringSubmatch(body); g != nil {
			a, err := r.c.Transport().ParseAddr(g[1])
			if err != nil {
				return stanza.NewError("modify", "not-acceptable", err.Error())
			}
			to, body = a, g[2]
		}
	}
	if to == "" {
		return stanza.NewError("modify", "bad-request", "whom is this for? Reply to one of their texts, or start with their number: +15557654321: on my way")
	}
	contact, err := mapping.ContactJID(to, r.c.Domain().Domainpart())
	if err != nil {
		return stanza.NewError("modify", "jid-malformed", err.Error())
	}
	user := s.From.Bare().String()
	label := r.c.ContactName(contact.String())
	if label == "" {
		label = string(to)
	} else {
		label += " (" + string(to) + ")"
	}
	return r.c.RelayFrom(ctx, w, s, box.Account, to, body, func(ctx context.Context, w router.Writer, sent *stanza.Message, resent bool) {
		unlock := r.turns.order.lock(room.String())
		defer unlock()
		shown := *sent
		shown.Body = "to " + label + ": " + sent.Body
		shown.Reply, shown.Fallback = nil, nil
		kept := shown
		shown.Type, shown.From = "groupchat", occupantJID(room, nick)
		shown.StanzaID = &stanza.StanzaID{ID: sent.ID, By: room.String()}
		c := r.copiesOf(room.String(), w)
		own := r.joined.of(room.String(), user)
		for _, f := range r.joined.all(room.String()) {
			var a *answers
			switch {
			case slices.Contains(own, f):
				a = prev
			case resent:
				continue
			}
			shown.To = f
			c.to(f, a, shown)
		}
		r.keepOwn(ctx, box.Room, nick, &kept, inboxHistory, resent, c)
		if !resent {
			r.c.Logger().Info("a member answered from a team inbox", "room", box.Room, "member", user, "to", to)
		}
	})
}

// withoutQuote is a reply's body without the quoted lines ("> ...") a
// client puts before it for clients without XEP-0461.
func withoutQuote(body string) string {
	lines := strings.Split(body, "\n")
	for len(lines) > 1 && strings.HasPrefix(lines[0], ">") {
		lines = lines[1:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
