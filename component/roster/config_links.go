package roster

import (
	"context"
	"time"

	"xmppgw/internal/backoff"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// privilegeWait is how long after connecting the gateway waits for the
// server's privilege advertisement before it adds the config's links.
const privilegeWait = 2 * time.Second

// barrierRetry is the backoff between pings the server did not answer.
var barrierRetry = backoff.Policy{Min: time.Second, Max: time.Minute}

// askConfigLinksOnConnect makes each link from the config that has never
// asked a contact of its user as soon as the component is connected, so
// that it is in the user's roster before the chat's first message: a
// roster push where the user's server grants it (XEP-0356), else a
// subscription request. The link remembers that it asked (the store's
// asked flag, reset when the config gives the chat to another user), so a
// reconnection or a restart does not ask again.
func (r *Roster) askConfigLinksOnConnect(ctx context.Context) {
	var todo []mapping.Link
	r.c.Persist(ctx, func(c context.Context) (err error) {
		todo, err = r.unaskedConfigLinks(c)
		return err
	})
	if len(todo) == 0 {
		return // every one has asked already
	}
	for attempt := 0; ; attempt++ {
		// The server advertises its privileges right after the handshake
		// (Prosody before anything else): the answer to a ping to
		// ourselves is read after that message has been handled. ejabberd
		// sends it a moment later; a server without XEP-0356 never does.
		err := r.c.Barrier(ctx)
		if err == nil {
			t := time.NewTimer(privilegeWait)
			defer t.Stop()
			select {
			case <-r.privs.advertised():
			case <-t.C:
			case <-ctx.Done():
				return
			}
			break
		}
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("config links: the server did not answer a ping; trying again", "err", err)
		if !backoff.Sleep(ctx, barrierRetry.Delay(attempt)) {
			return
		}
	}
	names := r.contactNames(ctx, todo)
	r.c.Persist(ctx, func(ctx context.Context) error { return r.askConfigLinks(ctx, names) })
	r.c.Queued()
}

// nameTimeout bounds the lookup of one config link's name.
const nameTimeout = 10 * time.Second

// contactNames asks the transport (a transports.Namer) for the names of
// the links that have none, so that the contact is added with it. A failed
// lookup leaves the link without: it is added all the same.
func (r *Roster) contactNames(ctx context.Context, links []mapping.Link) map[string]string {
	namer, ok := r.c.Transport().(transports.Namer)
	if !ok {
		return nil
	}
	names := map[string]string{}
	for _, l := range links {
		if l.Name != "" {
			continue
		}
		c, cancel := context.WithTimeout(ctx, nameTimeout)
		name, err := namer.ContactName(c, l.User, transports.Addr(l.Remote))
		cancel()
		if err != nil {
			r.log.Warn("config link: its name could not be looked up; adding the contact without one", "remote", l.Remote, "err", err)
			continue
		}
		names[l.Remote] = name
	}
	return names
}

// askConfigLinks queues, for each link from the config not asked yet,
// what makes its contact a contact of the user, and marks it asked; names
// are those of links that had none.
func (r *Roster) askConfigLinks(ctx context.Context, names map[string]string) error {
	links, err := r.unaskedConfigLinks(ctx)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Name == "" {
			l.Name = names[l.Remote]
		}
		contact, err := mapping.ContactJID(transports.Addr(l.Remote), r.c.Domain().Domainpart())
		if err != nil {
			r.log.Warn("config link: no contact address", "remote", l.Remote, "err", err)
			continue
		}
		add := render(r.AddContact(contact.String(), l.User, l.Name))
		asked, err := r.c.Store().Links().MarkAsked(ctx, r.c.Name(), l.Remote, l.Name, add...)
		if err != nil {
			return err
		}
		if asked {
			r.log.Info("config link: contact added", "remote", l.Remote, "user", l.User, "roster_push", r.privs.rosterSet(l.User))
		}
	}
	return nil
}

// unaskedConfigLinks returns the links from the config that never asked.
func (r *Roster) unaskedConfigLinks(ctx context.Context) ([]mapping.Link, error) {
	links, err := r.c.Store().Links().AllLinks(ctx, r.c.Name())
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
