package component

import "context"

// reachability is whether the foreign network can be reached, and why not.
type reachability struct {
	ok  bool
	why string
}

// Reachable records whether the network can be reached. On a change, the
// gateway JID's presence is sent to every linked user (by announceLoop).
func (g *Gateway) Reachable(ok bool, why string) {
	next := &reachability{ok: ok}
	if !ok {
		next.why = why
		if why == "" {
			next.why = g.o.Identity.Name + " cannot be reached"
		}
	}
	if prev := g.reach.Swap(next); *prev == *next {
		return
	}
	if ok {
		g.log.Info("network reachable")
	} else {
		g.log.Warn("network unreachable", "why", next.why)
	}
	wake(g.wakeReach)
}

// announceLoop sends the gateway's presence to linked users whenever the
// network's reachability changes, one change after another, so the last
// presence sent is always the current one.
func (g *Gateway) announceLoop(ctx context.Context) {
	announced := reachability{ok: true}
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.wakeReach:
		}
		now := *g.reach.Load()
		if now == announced || g.linker == nil {
			continue
		}
		c, cancel := context.WithTimeout(ctx, storeTimeout)
		users, err := g.o.Store.Links().LinkedUsers(c, g.name)
		if err == nil {
			users, _ = g.allowedOnly(users) // a user taken out of access.allow is told nothing
			stanzas := make([][]byte, len(users))
			for i, u := range users {
				stanzas[i] = render(g.gatewayPresence(u))
			}
			_, err = g.o.Store.ToXMPP().Accept(c, g.name, "", stanzas...)
		}
		cancel()
		if err != nil {
			g.log.Warn("cannot announce the gateway's presence", "err", err)
			continue
		}
		announced = now
		wake(g.wakeIn)
	}
}

// gatewayPresence is the gateway JID's presence to user: available while
// the network can be reached, else unavailable with the reason.
func (g *Gateway) gatewayPresence(to string) presence {
	r := g.reach.Load()
	p := presence{From: g.domain.String(), To: to}
	if !r.ok {
		p.Type, p.Status = "unavailable", r.why
	}
	return p
}
