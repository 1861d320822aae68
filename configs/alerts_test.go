package configs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// withAlerts is base with an alerts block; line 17 is "alerts:".
func withAlerts(block string) string { return base + "alerts:\n" + block }

func TestAlertsProblems(t *testing.T) {
	env := map[string]string{"SECRET": "component-secret-1", "TOKEN": "t", "ALERTS_TOKEN": "short-secret"}
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		0: {"token missing", withAlerts("  from: ops@example.com\n"), []string{
			`gw.yaml:17: alerts.token: is required`,
		}},
		1: {"token too short, not printed", withAlerts("  token: ${ALERTS_TOKEN}\n"), []string{
			`gw.yaml:18: alerts.token: must be at least 16 characters long`,
		}},
		2: {"token unset", withAlerts("  token: ${NOPE}\n"), []string{
			`gw.yaml:18: alerts.token: environment variable NOPE is not set`,
		}},
		3: {"from not bare", withAlerts("  token: 0123456789abcdef\n  from: ops@example.com/x\n"), []string{
			`gw.yaml:19: alerts.from: must be a bare JID, without a /resource`,
		}},
		4: {"from a domain", withAlerts("  token: 0123456789abcdef\n  from: example.com\n"), []string{
			`gw.yaml:19: alerts.from: "example.com" is not a bare JID (user@domain)`,
		}},
		5: {"bad destinations", withAlerts(`  token: 0123456789abcdef
  from: ops@example.com
  routes:
    - match: {severity: critical, "bad-label": x}
      to: ["@x", example.com, t1.example.com, "+1555@t1.example.com/r", 5]
    - {match: {team: db}, to: []}
    - {match: {team: web}, to: [{a: b}]}
    - {match: {team: app}, to: [bob@example.com/pager]}
`), []string{
			`gw.yaml:21: alerts.routes[0].match: "bad-label" is not a label name`,
			`gw.yaml:22: alerts.routes[0].to[0]: "@x" is not a JID`,
			`gw.yaml:22: alerts.routes[0].to[1]: "example.com" is not a user's JID (user@domain)`,
			`gw.yaml:22: alerts.routes[0].to[2]: "t1.example.com" is the gateway of transport "t1" itself; write ADDRESS@t1.example.com`,
			`gw.yaml:22: alerts.routes[0].to[3]: a transport's contact has no /resource`,
			`gw.yaml:22: alerts.routes[0].to[4]: "5" is not a user's JID (user@domain)`,
			`gw.yaml:23: alerts.routes[1].to: at least one JID is required`,
			`gw.yaml:24: alerts.routes[2].to[0]: expected a string, got a mapping`,
			`gw.yaml:25: alerts.routes[3].to[0]: must be a bare JID, without a /resource: answers come from the bare JID, whatever the client`,
		}},
		6: {"contact needs from", withAlerts(`  token: 0123456789abcdef
  routes:
    - to: [ops@example.com, "+15551234567@T1.example.com"]
`), []string{
			`gw.yaml:17: alerts.from: is required: alerts.routes[0].to[1] is a transport's contact, and alerts to contacts are sent as this user`,
		}},
		7: {"route after the default", withAlerts(`  token: 0123456789abcdef
  routes:
    - to: [ops@example.com]
    - match: {severity: critical}
      to: [oncall@example.com]
`), []string{
			`gw.yaml:21: alerts.routes[1]: is never used: alerts.routes[0] has no match and takes every alert`,
		}},
		8: {"routes not a list", withAlerts("  token: 0123456789abcdef\n  routes: {to: x}\n  extra: 1\n"), []string{
			`gw.yaml:19: alerts.routes: expected a list, got a mapping`,
			`gw.yaml:20: alerts: unknown key "extra"`,
		}},
		9: {"escalation and alertmanager_url", withAlerts(`  token: 0123456789abcdef
  alertmanager_url: 127.0.0.1:9093
  routes:
    - to: [ops@example.com]
      escalate:
        - {after: 500ms, to: [lead@example.com]}
        - {after: 5m, to: []}
        - {after: soon, to: ["+15551234567@t1.example.com"]}
`), []string{
			`gw.yaml:17: alerts.from: is required: alerts.routes[0].escalate[2].to[0] is a transport's contact, and alerts to contacts are sent as this user`,
			`gw.yaml:19: alerts.alertmanager_url: must be an absolute http or https URL, such as http://127.0.0.1:9093`,
			`gw.yaml:23: alerts.routes[0].escalate[0].after: must be a duration of 1s or more (5m, 1h)`,
			`gw.yaml:24: alerts.routes[0].escalate[1].to: at least one JID is required`,
			`gw.yaml:25: alerts.routes[0].escalate[2].after: expected a duration such as 30s, got "soon"`,
		}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.name), func(t *testing.T) {
			_, err := Parse("gw.yaml", []byte(tt.yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			got := problemsOf(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			for _, p := range got {
				if strings.Contains(p, "short-secret") {
					t.Errorf("the token is printed: %s", p)
				}
			}
		})
	}
}

func TestAlertsValid(t *testing.T) {
	env := map[string]string{"SECRET": "component-secret-1", "TOKEN": "t", "ALERTS_TOKEN": "0123456789abcdef-secret"}
	c, err := Parse("gw.yaml", []byte(withAlerts(`  token: ${ALERTS_TOKEN}
  from: Ops@Example.com
  routes:
    - match: {severity: critical, team: db}
      to: [OnCall@example.com, "+15551234567@T1.Example.com", "Bob@example.com"]
    - to: [ops@example.com]
`)), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	want := &Alerts{
		Token: "0123456789abcdef-secret",
		From:  "ops@example.com",
		Routes: []AlertRoute{
			{Match: map[string]string{"severity": "critical", "team": "db"},
				To: []string{"oncall@example.com", "+15551234567@t1.example.com", "bob@example.com"}},
			{To: []string{"ops@example.com"}},
		},
	}
	if !reflect.DeepEqual(c.Alerts, want) {
		t.Errorf("got %+v\nwant %+v", c.Alerts, want)
	}

	// No alerts block: the endpoint is off.
	c, err = Parse("gw.yaml", []byte(base), lookupTestEnv)
	if err != nil || c.Alerts != nil {
		t.Errorf("without alerts: %+v, %v", c, err)
	}
}
