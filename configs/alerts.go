package configs

// Alerts configures POST /alerts (see validate_alerts.go).
type Alerts struct {
	Token  string       `yaml:"token"`  // bearer token callers must send
	From   string       `yaml:"from"`   // bare JID alerts are sent as: its SMS number, where failures are reported
	Routes []AlertRoute `yaml:"routes"` // first match wins
}

// AlertRoute sends alerts whose labels match to a list of JIDs.
type AlertRoute struct {
	Match map[string]string `yaml:"match"` // label -> exact value; empty matches every alert
	To    []string          `yaml:"to"`    // JIDs: users, or contacts of a transport (+1555...@sms.example.com)
}

// validateAlerts checks the alerts block, if any.
func (p *parser) validateAlerts(a *Alerts) {
	// TODO(alerts): filled in by the alert endpoint's commit.
}
