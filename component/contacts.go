package component

import "xmppgw/component/core"

// addContact returns the stanzas that make contact (named nick, if known)
// a contact of user when they are linked: the core.Contacts module's
// (package roster), else the contact's subscription request.
func (g *Gateway) addContact(contact, user, nick string) [][]byte {
	if c := g.contacts(); c != nil {
		return renderAll(c.AddContact(contact, user, nick))
	}
	return [][]byte{render(presence{Type: "subscribe", From: contact, To: user, Nick: nick})}
}

// dropContact returns the stanzas that take contact off user's roster when
// they are unlinked: the core.Contacts module's, else the contact goes
// offline and cancels both subscriptions.
func (g *Gateway) dropContact(contact, user string) [][]byte {
	if c := g.contacts(); c != nil {
		return renderAll(c.DropContact(contact, user))
	}
	return [][]byte{
		render(presence{Type: "unavailable", From: contact, To: user}),
		render(presence{Type: "unsubscribed", From: contact, To: user}),
		render(presence{Type: "unsubscribe", From: contact, To: user}),
	}
}

// contacts is the first module that implements core.Contacts, or nil.
func (g *Gateway) contacts() core.Contacts {
	for _, m := range g.mods {
		if c, ok := m.(core.Contacts); ok {
			return c
		}
	}
	return nil
}

// watchSessions tells the modules that implement core.SessionWatcher when
// the component session comes up and goes down.
func (g *Gateway) watchSessions() {
	var watchers []core.SessionWatcher
	for _, m := range g.mods {
		if w, ok := m.(core.SessionWatcher); ok {
			watchers = append(watchers, w)
		}
	}
	if len(watchers) == 0 {
		return
	}
	next := g.o.Conn.OnChange
	g.o.Conn.OnChange = func(up bool) {
		if next != nil {
			next(up)
		}
		for _, w := range watchers {
			w.SessionChanged(up)
		}
	}
}

func renderAll(vs []any) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = render(v)
	}
	return out
}
