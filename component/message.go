package component

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// handleMessage turns a chat or normal message to a contact into a job.
func (g *Gateway) handleMessage(t router.Writer, in inStanza, from, to jid.JID) {
	switch in.Type {
	case "", "normal", "chat":
	case "error":
		// A room's are package muc's.
		g.log.Debug("error from XMPP", "from", from.String(), "stanza_id", in.ID)
		return
	case "headline":
		return // RFC 6121: never answered
	default: // groupchat to a room is package muc's
		if bare := from.Bare().String(); !g.allowed(bare) {
			g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
			return
		}
		g.reply(t, in, from, to, newError("cancel", "feature-not-implemented", "only chat and normal messages are relayed"))
		return
	}
	if g.nothingToRelay(in, from, to) || g.ownEcho(from, in.ID) {
		return
	}
	if to.Localpart() == "" && in.Body != nil && in.Addresses == nil && g.answers != nil && g.answersXMPP {
		// An answer to an alert: any recipient of one may answer, allowed
		// to use the gateway or not.
		g.xmppAnswer(t, in, from, to, func(ctx context.Context, t router.Writer) { g.toGateway(ctx, t, in, from, to) })
		return
	}
	_, bare := g.jids.strings(in.From, from)
	if !g.allowed(bare) {
		g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
		return
	}
	ctx, cancel := context.WithTimeout(g.readCtx(), storeTimeout)
	defer cancel()
	if to.Localpart() == "" {
		if in.Addresses != nil {
			g.multicast(ctx, t, in, from, to)
			return
		}
		if g.linker != nil && in.Body != nil {
			// "link" commits a link code: off the read loop.
			err := g.Later(from, t, func(ctx context.Context, t router.Writer) {
				ctx, cancel := context.WithTimeout(ctx, storeTimeout)
				defer cancel()
				g.command(ctx, t, in, from, to, *in.Body)
			})
			if err != nil {
				g.reply(t, in, from, to, errLaterBusy)
			}
			return
		}
		g.notAContact(t, in, from, to)
		return
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil {
		g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
		return
	}
	// remote is canonical: replies come from its JID whatever was typed.
	account, e := g.mayRelay(ctx, bare, in.ID, remote)
	if e != nil {
		g.reply(t, in, from, to, e)
		return
	}
	g.queueMessage(t, in, from, to, msgTarget{remote, account})
}

// toGateway handles a message to the gateway's JID that is not an answer
// to an alert, as handleMessage does (off the read loop).
func (g *Gateway) toGateway(ctx context.Context, t router.Writer, in inStanza, from, to jid.JID) {
	bare := from.Bare().String()
	switch {
	case !g.allowed(bare):
		g.reply(t, in, from, to, newError("auth", "forbidden", bare+" may not use this gateway"))
	case g.linker != nil:
		g.command(ctx, t, in, from, to, *in.Body)
	default:
		g.notAContact(t, in, from, to)
	}
}

// notAContact refuses a message to the gateway's JID.
func (g *Gateway) notAContact(t router.Writer, in inStanza, from, to jid.JID) {
	g.reply(t, in, from, to, newError("modify", "bad-request",
		"write to NUMBER@"+g.domain.String()+" to reach a contact; this is the gateway itself"))
}

// overQuota returns the policy-violation error if n more messages from user
// would exceed the transport's hourly cap.
func (g *Gateway) overQuota(user, stanzaID string, n int) *stanzaError {
	if g.quota == nil || g.quota.allowsN(user, time.Now(), n) {
		return nil
	}
	g.Stats.OverQuota.Add(1)
	g.quiet.Warn("message over the user's hourly limit; refused", "user", user, "stanza_id", stanzaID, "limit", g.quota.limit)
	return newError("modify", "policy-violation", fmt.Sprintf(
		"you may send at most %d %s messages an hour; try again later", g.quota.limit, g.o.Identity.Name))
}

// accountFor returns the account user sends to remote from, or the stanza
// error that refuses the message: a Linker's contact must be linked to the
// user; otherwise the user needs an account of their own.
func (g *Gateway) accountFor(ctx context.Context, user string, remote transports.Addr) (transports.Addr, *stanzaError) {
	if g.linker != nil {
		ok, err := g.linkedTo(ctx, remote, user)
		if err != nil {
			return "", storeError(err)
		}
		if !ok {
			return "", newError("cancel", "item-not-found", string(remote)+" is not a "+g.o.Identity.Name+
				" chat linked to "+user+"; send \"link\" to "+g.domain.String()+" to link one")
		}
		return "", nil
	}
	account, ok := g.o.Transport.Accounts()[user]
	if !ok && g.login != nil {
		return "", newError("auth", "registration-required",
			user+" is not logged in to "+g.o.Identity.Name+"; run the command \"Log in to "+g.o.Identity.Name+"\" on "+g.domain.String())
	}
	if !ok && g.Admin(user) {
		// An admin is the operator: name the key to set, as for alerts.
		return "", newError("auth", "registration-required", fmt.Sprintf(
			"%s has no %s account on transport %q: add it to that transport's numbers (an admin's messages, test messages too, go out from the admin's own number)",
			user, g.o.Identity.Name, g.name))
	}
	if !ok {
		return "", newError("auth", "registration-required",
			user+" has no "+g.o.Identity.Name+" account on this gateway; ask the operator to add one")
	}
	return account, nil
}

// storeError is the error for a stanza the store could not take.
func storeError(err error) *stanzaError { return core.StoreError(err) }

// composing passes an XEP-0085 "composing" notification on, best effort and
// off the read loop; it is dropped when too many are in flight.
func (g *Gateway) composing(from, to jid.JID) {
	if g.typer == nil {
		return
	}
	g.notifyContact(from, to, func(ctx context.Context, account, remote transports.Addr) error {
		return g.typer.Typing(ctx, account, remote)
	})
}

// displayed passes an XEP-0333 "displayed" marker on as the network's read
// mark, best effort as composing.
func (g *Gateway) displayed(from, to jid.JID, id string) {
	if g.reader == nil {
		return
	}
	g.notifyContact(from, to, func(ctx context.Context, account, remote transports.Addr) error {
		return g.reader.Read(ctx, account, remote, id)
	})
}

// notifyContact runs f, a best-effort notification of the user from to
// the contact to, off the read loop; it is dropped when too many are in
// flight.
func (g *Gateway) notifyContact(from, to jid.JID, f func(ctx context.Context, account, remote transports.Addr) error) {
	if to.Localpart() == "" || !g.allowed(from.Bare().String()) {
		return
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil {
		return
	}
	select {
	case g.typing <- struct{}{}:
	default:
		return
	}
	g.Go(func(ctx context.Context) {
		defer func() { <-g.typing }()
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		account, e := g.accountFor(ctx, from.Bare().String(), remote)
		if e != nil {
			return
		}
		if err := f(ctx, account, remote); err != nil {
			g.log.Debug("a notification to a contact failed", "remote", remote, "err", err)
		}
	})
}

// command answers a message to the gateway JID of a Linker transport:
// "link" gets a one-time link code, anything else the list of commands.
func (g *Gateway) command(ctx context.Context, t router.Writer, in inStanza, from, to jid.JID, body string) {
	var text string
	switch strings.ToLower(strings.TrimSpace(body)) {
	case "link":
		help, err := g.newLinkCode(ctx, from.Bare().String())
		if err != nil {
			g.reply(t, in, from, to, storeError(err))
			return
		}
		text = help
	case "links":
		var err error
		if text, err = g.linksText(ctx, from.Bare().String()); err != nil {
			g.reply(t, in, from, to, storeError(err))
			return
		}
	default:
		text = "Commands: \"link\" gives you a one-time code to link a " + g.o.Identity.Name +
			" chat; \"links\" lists your linked chats. Unregister from " + g.domain.String() + " to unlink them all."
	}
	t.Encode(message{Type: "chat", From: g.domain.String(), To: from.String(), Body: text})
}
