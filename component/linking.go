package component

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// codeTTL is how long a link code can be redeemed.
const codeTTL = 15 * time.Minute

var _ transports.GroupLinker = (*Gateway)(nil)

// Redeem redeems a link code sent from remote (see transports.Sink). The
// contact then asks its new user to subscribe, with name as its nickname,
// and the gateway says so to the user. For a group (transports.Rooms) it
// is LinkGroup by an unknown member: a transport should call LinkGroup.
func (g *Gateway) Redeem(ctx context.Context, remote transports.Addr, name, code string) (string, error) {
	if g.isRoom(remote) {
		return "", g.LinkGroup(ctx, remote, name, code, transports.Asker{})
	}
	return g.link(ctx, remote, name, code, nil)
}

// LinkGroup redeems a link code sent by a member of the group remote (see
// transports.GroupLinker).
func (g *Gateway) LinkGroup(ctx context.Context, remote transports.Addr, name, code string, by transports.Asker) error {
	_, err := g.link(ctx, remote, name, code, &mapping.Asker{Member: by.Member, Admin: by.Admin})
	return err
}

func (g *Gateway) link(ctx context.Context, remote transports.Addr, name, code string, by *mapping.Asker) (string, error) {
	contact, err := g.contactJID(remote)
	if err != nil {
		return "", &transports.LinkError{Msg: err.Error()}
	}
	stanzas := func(user string) [][]byte {
		return append(g.links.AddContact(contact.String(), user, name),
			render(message{Type: "chat", From: g.domain.String(), To: user,
				Body: fmt.Sprintf("Linked %s chat %s: it is your contact %s.", g.o.Identity.Name, describe(name, remote), contact)}))
	}
	// The code of a user the operator took out of access.allow is
	// refused as an unknown one.
	lt := g.o.Store.Links().WithOwners(g.allowed)
	var user string
	if by != nil {
		user, err = lt.RedeemGroupLinkCode(ctx, g.name, code, string(remote), name, *by, stanzas)
	} else {
		user, err = lt.RedeemLinkCode(ctx, g.name, code, string(remote), name, stanzas)
	}
	if err != nil {
		return "", g.linkRefused(err, remote, by)
	}
	g.log.Info("chat linked", "remote", remote, "user", user)
	wake(g.wakeIn)
	g.refreshAvatar(remote, user) // XEP-0153, in the background
	return user, nil
}

// Unlink removes remote's link, asked from remote (see transports.Sink);
// its contact goes offline and leaves the user's roster. For a group
// (transports.Rooms) it is UnlinkGroup by an unknown member, which is
// refused: a transport should call UnlinkGroup.
func (g *Gateway) Unlink(ctx context.Context, remote transports.Addr) (string, error) {
	if g.isRoom(remote) {
		return "", g.UnlinkGroup(ctx, remote, transports.Asker{})
	}
	return g.unlink(ctx, remote, nil)
}

// UnlinkGroup removes the link of the group remote, asked by one of its
// members (see transports.GroupLinker).
func (g *Gateway) UnlinkGroup(ctx context.Context, remote transports.Addr, by transports.Asker) error {
	_, err := g.unlink(ctx, remote, &mapping.Asker{Member: by.Member, Admin: by.Admin})
	return err
}

// unlink removes remote's link, asked by a member of the group remote, or
// with by nil from a one-to-one chat or by the XMPP side (the user or an
// operator, whom the caller has checked).
func (g *Gateway) unlink(ctx context.Context, remote transports.Addr, by *mapping.Asker) (string, error) {
	stanzas := func(user string) [][]byte { return g.links.Unlinked(user, remote) }
	var user string
	var err error
	if by != nil {
		user, err = g.o.Store.Links().UnlinkGroup(ctx, g.name, string(remote), *by, stanzas)
	} else {
		user, err = g.o.Store.Links().Unlink(ctx, g.name, string(remote), stanzas)
	}
	if err != nil {
		return "", g.linkRefused(err, remote, by)
	}
	g.log.Info("chat unlinked", "remote", remote, "user", user)
	wake(g.wakeIn)
	return user, nil
}

// unlinkUser removes every code link of user.
func (g *Gateway) unlinkUser(ctx context.Context, user string) ([]string, error) {
	removed, err := g.o.Store.Links().UnlinkUser(ctx, g.name, user, func(remote string) [][]byte {
		return g.links.Unlinked(user, transports.Addr(remote))
	})
	if err == nil && len(removed) > 0 {
		g.log.Info("user unregistered", "user", user, "unlinked", len(removed))
		wake(g.wakeIn)
	}
	return removed, err
}

// newLinkCode returns a fresh code for user and the help that goes with it.
func (g *Gateway) newLinkCode(ctx context.Context, user string) (string, error) {
	code, err := g.o.Store.Links().NewLinkCode(ctx, g.name, user, codeTTL)
	if err != nil {
		return "", err
	}
	return g.linker.LinkHelp(code) + fmt.Sprintf(" The code works once, within %d minutes.", int(codeTTL.Minutes())), nil
}

// reuseLeft is how long a code must still be good for the registration
// form to show it again rather than a fresh one.
const reuseLeft = 5 * time.Minute

// linkCode is newLinkCode, but gives user's current code again while it is
// good for left more: fetching the registration form, and submitting it,
// must not undo the code it showed.
func (g *Gateway) linkCode(ctx context.Context, user string, left time.Duration) (string, error) {
	code, expires, ok, err := g.o.Store.Links().CurrentLinkCode(ctx, g.name, user, left)
	if err != nil {
		return "", err
	}
	if !ok {
		return g.newLinkCode(ctx, user)
	}
	within := "1 minute"
	if m := int(time.Until(expires).Round(time.Minute).Minutes()); m > 1 {
		within = fmt.Sprintf("%d minutes", m)
	}
	return g.linker.LinkHelp(code) + " The code works once, within " + within + ".", nil
}

// linkedTo reports whether remote is linked to user.
func (g *Gateway) linkedTo(ctx context.Context, remote transports.Addr, user string) (bool, error) {
	l, ok, err := g.o.Store.Links().LinkOf(ctx, g.name, string(remote))
	return ok && l.User == user, err
}

// linksText lists user's links for a chat message or a command note.
func (g *Gateway) linksText(ctx context.Context, user string) (string, error) {
	links, err := g.o.Store.Links().LinksOf(ctx, g.name, user)
	if err != nil {
		return "", err
	}
	if len(links) == 0 {
		return "No " + g.o.Identity.Name + " chat is linked to you.", nil
	}
	text := "Your linked " + g.o.Identity.Name + " chats:"
	for _, l := range links {
		text += "\n" + g.describeLink(l)
	}
	return text, nil
}

// describeLink is one line about a link: contact JID, name, origin.
func (g *Gateway) describeLink(l mapping.Link) string {
	c, _ := g.contactJID(transports.Addr(l.Remote))
	s := c.String()
	if l.Name != "" {
		s += " " + l.Name
	}
	if l.Static {
		s += " (set in the config)"
	}
	return s
}

// linkError turns the store's refusals into messages for the remote user.
func linkError(err error) error {
	for _, e := range []error{mapping.ErrBadCode, mapping.ErrStaticLink, mapping.ErrLinkedToOther, mapping.ErrNotLinked, mapping.ErrNotLinker} {
		if errors.Is(err, e) {
			return &transports.LinkError{Msg: e.Error()}
		}
	}
	return err
}

func describe(name string, remote transports.Addr) string {
	if name == "" {
		return string(remote)
	}
	return fmt.Sprintf("%q (%s)", name, remote)
}

// linkRefused is the error for a link or unlink of remote, asked by by (a
// group's member, or nil), that the store refused with err.
func (g *Gateway) linkRefused(err error, remote transports.Addr, by *mapping.Asker) error {
	if errors.Is(err, mapping.ErrNotLinker) {
		g.log.Info("a group member may not change the group's link", "remote", remote, "member", by.Member)
	}
	return linkError(err)
}
