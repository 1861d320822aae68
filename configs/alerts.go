package configs

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"mellium.im/xmpp/jid"
)

// Alerts configures POST /alerts (see validateAlerts).
type Alerts struct {
	Token  string       `yaml:"token"`  // bearer token callers must send
	From   string       `yaml:"from"`   // bare JID alerts are sent as: its SMS number, where failures are reported
	Routes []AlertRoute `yaml:"routes"` // first match wins
	// AlertmanagerURL is where "silence" answers create silences
	// (POST /api/v2/silences); "" turns silence off.
	AlertmanagerURL string `yaml:"alertmanager_url"`
}

// AlertRoute sends alerts whose labels match to a list of JIDs.
type AlertRoute struct {
	Match    map[string]string `yaml:"match"`    // label -> exact value; empty matches every alert
	To       []string          `yaml:"to"`       // JIDs: users, or contacts of a transport (+1555...@sms.example.com)
	Escalate []Escalation      `yaml:"escalate"` // steps for a group nobody acknowledges
}

// Escalation is a step of a route's escalation: a group still firing and
// unacknowledged After its first notification is sent to To too.
type Escalation struct {
	After time.Duration `yaml:"after"`
	To    []string      `yaml:"to"`
}

// MinEscalation is the shortest escalation delay.
const MinEscalation = time.Second

// MinAlertsToken is the shortest bearer token accepted for POST /alerts.
const MinAlertsToken = 16

// labelName is Prometheus's rule for label names.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// validateAlerts checks the alerts block, if any, and normalises its JIDs.
// What needs the transports themselves (that a contact's address parses,
// that from has a number on an SMS transport) is checked at startup.
func (p *parser) validateAlerts(a *Alerts) {
	if a == nil {
		return
	}
	if p.require("alerts.token", a.Token) && len(a.Token) < MinAlertsToken {
		p.invalid("alerts.token", fmt.Sprintf("must be at least %d characters long", MinAlertsToken))
	}
	if a.From != "" {
		const key = "alerts.from"
		j, err := jid.Parse(a.From)
		switch {
		case err != nil || j.Localpart() == "":
			p.invalid(key, fmt.Sprintf("%s is not a bare JID (user@domain)", quoteShort(p.text(key))))
		case j.Resourcepart() != "":
			p.invalid(key, "must be a bare JID, without a /resource")
		default:
			a.From = j.String()
		}
	}
	domains := p.transportDomains()
	needFrom := "" // the first destination that is a transport's contact
	defaultRoute := ""
	for i := range a.Routes {
		r := &a.Routes[i]
		path := "alerts.routes[" + strconv.Itoa(i) + "]"
		if pos := p.pos[path]; pos.node == nil || (pos.node.Kind != yaml.MappingNode && !isNull(pos.node)) {
			continue // reported as a type mismatch
		}
		if defaultRoute != "" {
			p.add(p.lineNear(path), path, "is never used: "+defaultRoute+" has no match and takes every alert")
		}
		for _, name := range slices.Sorted(maps.Keys(r.Match)) {
			if !labelName.MatchString(name) {
				p.add(p.lineNear(path+".match."+name), path+".match", fmt.Sprintf("%s is not a label name", quoteShort(name)))
			}
		}
		if len(r.Match) == 0 && defaultRoute == "" {
			defaultRoute = path
		}
		if c := p.alertDestinations(path+".to", r.To, domains); c != "" && needFrom == "" {
			needFrom = c
		}
		for k := range r.Escalate {
			step := &r.Escalate[k]
			spath := path + ".escalate[" + strconv.Itoa(k) + "]"
			if step.After < MinEscalation && !p.reported(spath+".after") {
				p.add(p.lineNear(spath+".after"), spath+".after", "must be a duration of 1s or more (5m, 1h)")
			}
			if c := p.alertDestinations(spath+".to", step.To, domains); c != "" && needFrom == "" {
				needFrom = c
			}
		}
	}
	if a.AlertmanagerURL != "" {
		const key = "alerts.alertmanager_url"
		u, err := url.Parse(a.AlertmanagerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.invalid(key, "must be an absolute http or https URL, such as http://127.0.0.1:9093")
		} else {
			a.AlertmanagerURL = strings.TrimRight(a.AlertmanagerURL, "/")
		}
	}
	if needFrom != "" && a.From == "" && !p.reported("alerts.from") {
		p.add(p.lineNear("alerts.from"), "alerts.from",
			"is required: "+needFrom+" is a transport's contact, and alerts to contacts are sent as this user")
	}
}

// alertDestinations checks a list of alert destinations at path (JIDs,
// normalised in place) and returns the key of the first that is a
// transport's contact, or "".
func (p *parser) alertDestinations(path string, to []string, domains map[string]string) string {
	if len(to) == 0 {
		if !p.reported(path) {
			p.add(p.lineNear(path), path, "at least one JID is required")
		}
		return ""
	}
	first := ""
	for k, s := range to {
		key := path + "[" + strconv.Itoa(k) + "]"
		j, err := jid.Parse(s)
		if err != nil {
			p.invalid(key, fmt.Sprintf("%s is not a JID", quoteShort(p.text(key))))
			continue
		}
		name, contact := domains[j.Domainpart()]
		switch {
		case contact && j.Localpart() == "":
			p.invalid(key, fmt.Sprintf("%s is the gateway of transport %q itself; write ADDRESS@%s", quoteShort(p.text(key)), name, j.Domainpart()))
			continue
		case j.Localpart() == "":
			p.invalid(key, fmt.Sprintf("%s is not a user's JID (user@domain)", quoteShort(p.text(key))))
			continue
		case contact && j.Resourcepart() != "":
			p.invalid(key, "a transport's contact has no /resource")
			continue
		case j.Resourcepart() != "":
			// Answers are taken by bare JID: a recipient with a resource
			// would get pages it could never acknowledge.
			p.invalid(key, "must be a bare JID, without a /resource: answers come from the bare JID, whatever the client")
			continue
		case contact && first == "":
			first = key
		}
		to[k] = j.String()
	}
	return first
}

// transportDomains maps the domain of each transport in the file (as
// decoded, before the transports are validated) to its name.
func (p *parser) transportDomains() map[string]string {
	out := map[string]string{}
	for i := 0; ; i++ {
		path := "transports[" + strconv.Itoa(i) + "]"
		if _, ok := p.pos[path]; !ok {
			return out
		}
		n := p.pos[path+".domain"].node
		if n == nil || n.Kind != yaml.ScalarNode {
			continue
		}
		d, err := jid.Parse(n.Value)
		if err != nil || d.Localpart() != "" {
			continue // reported by validateTransports
		}
		name := ""
		if nn := p.pos[path+".name"].node; nn != nil && nn.Kind == yaml.ScalarNode {
			name = nn.Value
		}
		out[d.Domainpart()] = name
	}
}
