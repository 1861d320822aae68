package component

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// The core.Core methods about links and operation, which the ad-hoc
// commands (package adhoc) use.

// LinksText implements core.Core.
func (g *Gateway) LinksText(ctx context.Context, user string) (string, error) {
	return g.linksText(ctx, user)
}

// DescribeLink implements core.Core.
func (g *Gateway) DescribeLink(l mapping.Link) string { return g.describeLink(l) }

// NewLinkCode implements core.Core.
func (g *Gateway) NewLinkCode(ctx context.Context, user string) (string, error) {
	return g.newLinkCode(ctx, user)
}

// AddLink implements core.Core.
func (g *Gateway) AddLink(ctx context.Context, remote transports.Addr, user string) error {
	if err := g.links.Add(ctx, remote, user); err != nil {
		return err
	}
	wake(g.wakeIn)
	return nil
}

// RemoveLink implements core.Core.
func (g *Gateway) RemoveLink(ctx context.Context, remote transports.Addr) (string, error) {
	return g.unlink(ctx, remote, nil)
}

// RemoveOwnLink implements core.Core.
func (g *Gateway) RemoveOwnLink(ctx context.Context, remote transports.Addr, user string) error {
	err := g.o.Store.Links().UnlinkOwn(ctx, g.name, string(remote), user, func(user string) [][]byte { return g.links.Unlinked(user, remote) })
	switch {
	case errors.Is(err, mapping.ErrNotLinked):
		return err
	case err != nil:
		return linkError(err)
	}
	g.log.Info("chat unlinked", "remote", remote, "user", user)
	wake(g.wakeIn)
	return nil
}

// SendTest implements core.Core.
func (g *Gateway) SendTest(ctx context.Context, from jid.JID, remote transports.Addr, text string) error {
	var account transports.Addr
	if g.linker == nil {
		a, e := g.accountFor(ctx, from.Bare().String(), remote)
		if e != nil {
			return e
		}
		account = a
	}
	j := mapping.Job{Transport: g.name, Sender: from.String(), Account: string(account), Remote: string(remote),
		Body: text, StanzaID: "test-" + newSessionID(), Shared: len(g.ownersOfAccount(account)) > 1}
	id, _, err := g.o.Store.Jobs().Enqueue(ctx, j)
	if err != nil {
		return err
	}
	j.ID, j.Created = id, time.Now()
	g.handOff(j)
	return nil
}

// Status implements core.Core.
func (g *Gateway) Status() core.Status {
	s := &g.Stats
	reach := g.reach.Load()
	return core.Status{
		Connected: g.Connected(), Reachable: reach.ok, Why: reach.why,
		Sent: s.ToProvider.Load(), Received: s.FromProvider.Load(), Failed: s.Failed.Load(),
		Retries: s.Retries.Load(), Refused: s.Refused.Load(), OverQuota: s.OverQuota.Load(),
		Duplicates: s.Duplicates.Load(), Unowned: s.Unowned.Load(),
	}
}

// newSessionID returns 64 random bits in hex, for ids that must not
// repeat: a test message's stanza id, a roster push's.
func newSessionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
