package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"xmppgw/component"
	"xmppgw/component/alerts"
	"xmppgw/component/contacts"
	"xmppgw/configs"
	"xmppgw/mapping"
)

// alertsPath is where the alert endpoint is mounted.
const alertsPath = "/alerts"

// mountAlerts mounts POST /alerts on mux if the config has an alerts block,
// and returns its desk (nil without one): the gateways hand it the
// recipients' answers, and it escalates while it runs. Every route's
// destination is checked against the transports now, so a contact that
// does not parse, or an alerts user without a number on an SMS transport
// it sends to, stops the start with an error naming the key.
func mountAlerts(mux *http.ServeMux, cfg *configs.Config, store *mapping.Store, gws []*component.Gateway, book *contacts.Book, log *slog.Logger) (*alerts.Desk, error) {
	a := cfg.Alerts
	if a == nil {
		return nil, nil
	}
	q, err := component.NewAlertQueue(a.From, gws)
	if err != nil {
		return nil, fmt.Errorf("alerts.from: %w", err)
	}
	routes := make([]alerts.Route, len(a.Routes))
	for i, r := range a.Routes {
		routes[i] = alerts.Route{Match: r.Match, To: r.To}
		for _, s := range r.Escalate {
			routes[i].Escalate = append(routes[i].Escalate, alerts.Step{After: s.After, To: s.To})
		}
	}
	o := alerts.Options{Token: a.Token, Routes: routes, Queue: q, Logger: log.With("endpoint", "alerts"), Book: store.Alerts(),
		Label: book.Label}
	if a.AlertmanagerURL != "" {
		o.Silencer = &alerts.Alertmanager{URL: a.AlertmanagerURL, Client: &http.Client{Timeout: alerts.SilenceTimeout}}
	}
	h, err := alerts.New(o)
	if err != nil {
		return nil, fmt.Errorf("%s: alerts.%w", cfg.File, err)
	}
	mux.Handle(alertsPath, h)
	for i, g := range gws {
		g.SetAnswers(h.Desk(), i == 0) // XMPP users get alerts from the first gateway's JID
	}
	log.Info("alert endpoint ready", "path", alertsPath, "routes", len(routes))
	return h.Desk(), nil
}
