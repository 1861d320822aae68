package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"xmppgw/component"
	"xmppgw/component/alerts"
	"xmppgw/configs"
)

// alertsPath is where the alert endpoint is mounted.
const alertsPath = "/alerts"

// mountAlerts mounts POST /alerts on mux if the config has an alerts block.
// Every route's destination is checked against the transports now, so a
// contact that does not parse, or an alerts user without a number on an SMS
// transport it sends to, stops the start with an error naming the key.
func mountAlerts(mux *http.ServeMux, cfg *configs.Config, gws []*component.Gateway, log *slog.Logger) error {
	a := cfg.Alerts
	if a == nil {
		return nil
	}
	q, err := component.NewAlertQueue(a.From, gws)
	if err != nil {
		return fmt.Errorf("alerts.from: %w", err)
	}
	routes := make([]alerts.Route, len(a.Routes))
	for i, r := range a.Routes {
		routes[i] = alerts.Route{Match: r.Match, To: r.To}
	}
	h, err := alerts.New(alerts.Options{Token: a.Token, Routes: routes, Queue: q, Logger: log.With("endpoint", "alerts")})
	if err != nil {
		return fmt.Errorf("%s: alerts.%w", cfg.File, err)
	}
	mux.Handle(alertsPath, h)
	log.Info("alert endpoint ready", "path", alertsPath, "routes", len(routes))
	return nil
}
