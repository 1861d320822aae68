package component

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/transports"
)

// XEP-0077 in-band registration with the gateway JID.

// registerQuery is an XEP-0077 registration form: instructions only, since
// linking needs nothing but the code they contain.
type registerQuery struct {
	XMLName      xml.Name  `xml:"jabber:iq:register query"`
	Instructions string    `xml:"instructions,omitempty"`
	Registered   *struct{} `xml:"registered,omitempty"`
	Phone        string    `xml:"phone,omitempty"` // the user's number, for account transports
}

// register answers XEP-0077 on the gateway JID. For a Linker transport,
// asking for the form gets instructions with a link code (the user's
// current one while it is good for a few minutes more, else a fresh one);
// submitting it sends the code again as a chat message; removing the registration
// unlinks every chat the user linked with a code. For an account transport
// (SMS) it shows the user's number, which the operator sets. A user not
// allowed (one the operator took out of access.allow) may still remove
// the registration, which removes their own data: their links, or their
// session.
func (g *Gateway) register(t router.Writer, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	removal := in.Type == "set" && in.Payload.Remove != nil && (g.login != nil || g.linker != nil)
	if !g.allowed(user) && !removal {
		g.reply(t, in, from, to, newError("auth", "forbidden", user+" may not use this gateway"))
		return
	}
	result := func(p any) {
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: p})
	}
	if g.login != nil {
		// A logout goes to the network: off the read loop.
		if err := g.Later(from, t, func(ctx context.Context, t router.Writer) { g.registerLogin(ctx, t, in, from, to) }); err != nil {
			g.reply(t, in, from, to, errLaterBusy)
		}
		return
	}
	if g.linker == nil {
		g.registerAccount(t, in, from, to, result)
		return
	}
	// A link code or an unlink commits: off the read loop.
	if err := g.Later(from, t, func(ctx context.Context, t router.Writer) { g.registerLinker(ctx, t, in, from, to) }); err != nil {
		g.reply(t, in, from, to, errLaterBusy)
	}
}

// registerLinker is register for a Linker transport.
func (g *Gateway) registerLinker(ctx context.Context, t router.Writer, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	result := func(p any) {
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: p})
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if in.Type == "set" && in.Payload.Remove != nil {
		if _, err := g.unlinkUser(ctx, user); err != nil {
			g.reply(t, in, from, to, storeError(err))
			return
		}
		result(nil)
		return
	}
	// The form shows a code good for a while yet; submitting it sends
	// the code the form showed, while it works at all.
	left := reuseLeft
	if in.Type == "set" {
		left = time.Second
	}
	help, err := g.linkCode(ctx, user, left)
	if err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	if in.Type == "set" {
		result(nil)
		t.Encode(message{Type: "chat", From: g.domain.String(), To: from.String(), Body: help})
		return
	}
	q := registerQuery{Instructions: help}
	links, err := g.o.Store.Links().LinksOf(ctx, g.name, user)
	if err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	if len(links) > 0 {
		q.Registered = &struct{}{}
	}
	result(q)
}

// registerAccount answers XEP-0077 for a transport where each user sends
// from an account of their own, fixed in the config: the form shows it.
func (g *Gateway) registerAccount(t router.Writer, in inStanza, from, to jid.JID, result func(any)) {
	name := g.o.Identity.Name
	number, ok := g.o.Transport.Accounts()[from.Bare().String()]
	switch {
	case in.Type == "get" && ok:
		result(registerQuery{Registered: &struct{}{}, Phone: string(number), Instructions: fmt.Sprintf(
			"Your %s number is %s. Write to NUMBER@%s to reach a contact from it. The operator assigns numbers.", name, number, g.domain)})
	case in.Type == "get":
		result(registerQuery{Instructions: fmt.Sprintf("You have no %s number on this gateway; ask the operator to add one.", name)})
	case in.Payload.Remove != nil:
		g.reply(t, in, from, to, newError("cancel", "not-allowed",
			"your "+name+" number is set in the gateway's config; ask the operator to remove it"))
	case ok:
		result(nil) // already registered; nothing to change
	default:
		g.reply(t, in, from, to, newError("cancel", "not-allowed", "the operator assigns "+name+" numbers; ask them to add one"))
	}
}

// logoutTimeout bounds a logout's round trip to the network.
const logoutTimeout = 60 * time.Second

// registerLogin answers XEP-0077 for a transport users sign in to
// (transports.Login): the form says whether the user is signed in and
// how to sign in, and removing the registration signs out. Signing in
// itself is the ad-hoc command's: the network's code comes only after the
// phone number is sent, and a second question (the password) may follow,
// which one registration form cannot ask.
func (g *Gateway) registerLogin(ctx context.Context, t router.Writer, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	name := g.o.Identity.Name
	result := func(p any) {
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: p})
	}
	account, signedIn := g.o.Transport.Accounts()[user]
	login := fmt.Sprintf("Run the command \"Log in to %s\" on %s: it asks for your phone number, the code %s sends you, and your password if you set one.", name, g.domain, name)
	switch {
	case in.Type == "get" && signedIn:
		result(registerQuery{Registered: &struct{}{}, Instructions: fmt.Sprintf(
			"You are logged in to %s (account %s). Remove this registration, or run the command \"Log out of %s\", to log out.", name, account, name)})
	case in.Type == "get":
		result(registerQuery{Instructions: "You are not logged in to " + name + ". " + login})
	case in.Payload.Remove != nil:
		ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
		defer cancel()
		err := g.login.Logout(ctx, user)
		switch {
		case err == nil, errors.Is(err, transports.ErrNotLoggedIn):
			result(nil)
		default:
			g.log.Warn("logging out failed", "user", user, "err", err)
			g.reply(t, in, from, to, newError("wait", "remote-server-timeout", name+" did not answer the logout; try again"))
		}
	default:
		g.reply(t, in, from, to, newError("cancel", "not-allowed", login))
	}
}
