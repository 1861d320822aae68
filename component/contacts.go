package component

import "xmppgw/component/core"

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
