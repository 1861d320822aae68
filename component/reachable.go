package component

import "context"

// reachability is whether the foreign network can be reached, and why not.
type reachability struct {
	ok  bool
	why string
}

// Reachable records whether the network can be reached. On a change, the
// gateway JID's presence is sent to every linked user.
func (g *Gateway) Reachable(ok bool, why string) {
	if !ok && why == "" {
		why = g.o.Identity.Name + " cannot be reached"
	}
	next := &reachability{ok: ok, why: why}
	if ok {
		next.why = ""
	}
	prev := g.reach.Swap(next)
	if *prev == *next {
		return
	}
	if ok {
		g.log.Info("network reachable")
	} else {
		g.log.Warn("network unreachable", "why", why)
	}
	if g.linker == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		users, err := g.o.Store.LinkedUsers(ctx, g.name)
		if err != nil {
			g.log.Warn("cannot announce the gateway's presence", "err", err)
			return
		}
		stanzas := make([][]byte, len(users))
		for i, u := range users {
			stanzas[i] = render(g.gatewayPresence(u))
		}
		if _, err := g.o.Store.Accept(ctx, g.name, "", stanzas...); err != nil {
			g.log.Warn("cannot announce the gateway's presence", "err", err)
			return
		}
		wake(g.wakeIn)
	}()
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
