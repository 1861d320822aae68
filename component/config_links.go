package component

import (
	"context"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// privilegeWait is how long after connecting the gateway waits for the
// server's privilege advertisement before it adds the config's links.
const privilegeWait = 2 * time.Second

// askConfigLinksOnConnect makes each link from the config that has never
// asked a contact of its user as soon as the component is first connected,
// so that it is in the user's roster before the chat's first message: a
// roster push where the user's server grants it (XEP-0356), else a
// subscription request. The link remembers that it asked (the store's
// asked flag, reset when the config gives the chat to another user), so a
// restart does not ask again.
func (g *Gateway) askConfigLinksOnConnect(ctx context.Context) {
	if g.linker == nil || len(g.linker.StaticLinks()) == 0 {
		return
	}
	var todo []mapping.Link
	g.persist(ctx, func(c context.Context) (err error) {
		todo, err = g.unaskedConfigLinks(c)
		return err
	})
	if len(todo) == 0 {
		return // every one has asked already, at an earlier start
	}
	for attempt := 0; ; attempt++ {
		s, err := g.o.Link.Session(ctx)
		if err != nil {
			return
		}
		// The server advertises its privileges right after the handshake
		// (Prosody before anything else): the answer to a ping to
		// ourselves is read after that message has been handled. ejabberd
		// sends it a moment later; a server without XEP-0356 never does.
		err = g.barrier(ctx, s)
		if err == nil {
			t := time.NewTimer(privilegeWait)
			defer t.Stop()
			select {
			case <-g.privs.advertised():
			case <-t.C:
			case <-ctx.Done():
				return
			}
			break
		}
		if ctx.Err() != nil {
			return
		}
		g.log.Warn("config links: the server did not answer a ping; trying again", "err", err)
		if !sleep(ctx, g.backoff(attempt)) {
			return
		}
	}
	g.persist(ctx, g.askConfigLinks)
	wake(g.wakeIn)
}

// askConfigLinks queues, for each link from the config not asked yet,
// what makes its contact a contact of the user, and marks it asked.
func (g *Gateway) askConfigLinks(ctx context.Context) error {
	links, err := g.unaskedConfigLinks(ctx)
	if err != nil {
		return err
	}
	for _, l := range links {
		contact, err := mapping.ContactJID(transports.Addr(l.Remote), g.domain.Domainpart())
		if err != nil {
			g.log.Warn("config link: no contact address", "remote", l.Remote, "err", err)
			continue
		}
		asked, err := g.o.Store.MarkAsked(ctx, g.name, l.Remote, l.Name, g.addContact(contact.String(), l.User, l.Name)...)
		if err != nil {
			return err
		}
		if asked {
			g.log.Info("config link: contact added", "remote", l.Remote, "user", l.User, "roster_push", g.privs.rosterSet(l.User))
		}
	}
	return nil
}

// unaskedConfigLinks returns the links from the config that never asked.
func (g *Gateway) unaskedConfigLinks(ctx context.Context) ([]mapping.Link, error) {
	links, err := g.o.Store.AllLinks(ctx, g.name)
	if err != nil {
		return nil, err
	}
	var out []mapping.Link
	for _, l := range links {
		if l.Static && !l.Asked {
			out = append(out, l)
		}
	}
	return out, nil
}
