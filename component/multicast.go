package component

import (
	"context"
	"fmt"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// maxMulticast bounds the recipients of one multicast message.
const maxMulticast = 50

// multicast sends a message addressed to the gateway JID with XEP-0033
// addresses (a group text) to each contact listed as to, cc or bcc: one job
// per contact, as if the user had written to each. Every address is checked
// before anything is queued; a bad one refuses the whole message with an
// error naming it. Each contact's delivery reports and failures then come
// from that contact's JID, so the sender sees which one failed.
func (g *Gateway) multicast(ctx context.Context, t router.Writer, in inStanza, from, to jid.JID) {
	refuse := func(cond, text string) {
		g.reply(t, in, from, to, newError("modify", cond, text))
	}
	var targets []msgTarget
	seen := map[transports.Addr]bool{}
	for _, a := range in.Addresses.Address {
		switch a.Type {
		case "to", "cc", "bcc":
		case "replyto", "replyroom", "noreply", "ofrom":
			continue // about replies, not recipients
		default:
			refuse("bad-request", fmt.Sprintf("address type %q cannot be delivered by this gateway", a.Type))
			return
		}
		if a.Delivered == "true" {
			continue // XEP-0033: already delivered by a previous hop
		}
		c, err := jid.Parse(a.JID)
		if err != nil {
			refuse("jid-malformed", fmt.Sprintf("%q is not a valid JID", a.JID))
			return
		}
		if c.Localpart() == "" || c.Domainpart() != g.domain.Domainpart() {
			refuse("not-acceptable", fmt.Sprintf("%q is not a contact of %s; this gateway delivers to its own contacts only", a.JID, g.domain))
			return
		}
		remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(c))
		if err != nil {
			refuse("jid-malformed", fmt.Sprintf("%s: %v", a.JID, err))
			return
		}
		if seen[remote] {
			continue
		}
		seen[remote] = true
		account, e := g.accountFor(ctx, from.Bare().String(), remote)
		if e != nil {
			g.reply(t, in, from, to, e)
			return
		}
		targets = append(targets, msgTarget{remote, account})
	}
	switch {
	case len(targets) == 0:
		refuse("bad-request", "no recipient: list contacts as to, cc or bcc addresses (XEP-0033)")
		return
	case len(targets) > maxMulticast:
		refuse("policy-violation", fmt.Sprintf("at most %d recipients per message", maxMulticast))
		return
	}
	if e := g.overQuota(from.Bare().String(), in.ID, len(targets)); e != nil {
		g.reply(t, in, from, to, e)
		return
	}
	// One transaction for all of them (see intake): all are queued, or
	// the message is refused.
	g.queueMessage(t, in, from, to, targets...)
}
