//go:build integration

package main

import (
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"xmppgw/component/alerts"
	"xmppgw/internal/amtest"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

// near reports whether d is within a second of want: Alertmanager starts a
// silence at its own clock's now.
func near(d, want time.Duration) bool { return d > want-time.Second && d < want+time.Second }

// The loop through a real Alertmanager: Prometheus-style alerts posted to
// its API reach bob and the on-call phone through its webhook; the phone
// acknowledges one by SMS and bob hears of it; the other, unacknowledged
// across a gateway restart, escalates to alice, and the acknowledged one
// does not; the phone silences the first in Alertmanager by SMS; the second
// resolves, and everyone who got it hears so.
func TestAlertmanagerLoop(t *testing.T) {
	t.Setenv("TEST_ALERTS_TOKEN", alertsToken)
	t.Setenv("XMPPGW_ALERTS_TOKEN", "")
	routes := &gwtest.Alerts{Token: "${TEST_ALERTS_TOKEN}", From: "alice@example.test", Routes: []gwtest.Route{
		{Match: map[string]string{"severity": "critical"}, To: []string{"bob@example.test", "+15551234567@sms.example.test"},
			Escalate: []gwtest.Escalation{{After: "3s", To: []string{"alice@example.test"}}}},
		{To: []string{"alice@example.test"}},
	}}
	e := startEnv(t, envOptions{alerts: routes})
	am := amtest.StartT(t, amtest.Config{WebhookURL: e.public + "/alerts", Token: alertsToken})
	// The gateway learns where Alertmanager is.
	e.stop()
	e.cfg.Alerts.AlertmanagerURL = am.URL
	if err := e.cfg.Write(e.cfgPath); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	ctx := testCtx(t)
	alice, bob := e.login(t, "alice"), e.login(t, "bob")
	page := from("sms.example.test", "message", "chat")
	phone := func(body string) {
		t.Helper()
		if _, status, err := e.twilio.SendInbound(ctx, e.public+"/hooks/sms/inbound", "+15551234567", aliceNum, body); err != nil || status != 200 {
			t.Fatalf("the phone's %q: %d %v", body, status, err)
		}
	}
	disk := amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
		Annotations: map[string]string{"summary": "/var is 95% full"}}
	load := amtest.Alert{Labels: map[string]string{"alertname": "HighLoad", "severity": "critical", "instance": "web-1"},
		Annotations: map[string]string{"summary": "load 12"}}

	if err := am.Fire(ctx, disk); err != nil {
		t.Fatal(err)
	}
	got := nextWhere(t, bob, "DiskFull's page", page)
	diskCode := alertCode(t, got.Body)
	if want := "#" + diskCode + " [FIRING:1] DiskFull (severity=critical)\n- db-1: /var is 95% full\nReply \"ack " + diskCode + "\" to acknowledge."; got.Body != want {
		t.Errorf("bob's page:\n%s\nwant\n%s", got.Body, want)
	}
	if sms, err := e.twilio.Wait(ctx, 1); err != nil || !strings.HasPrefix(sms[0].Body, "#"+diskCode+" ") || sms[0].To != "+15551234567" {
		t.Fatalf("the phone's page: %+v %v", sms, err)
	}
	phone("ack")
	ack := regexp.MustCompile(`^#` + diskCode + ` acknowledged by \+15551234567 at \d\d:\d\d UTC\.$`)
	if got := nextWhere(t, bob, "the acknowledgement", page); !ack.MatchString(got.Body) {
		t.Errorf("bob was told %q", got.Body)
	}

	if err := am.Fire(ctx, load); err != nil {
		t.Fatal(err)
	}
	loadCode := alertCode(t, nextWhere(t, bob, "HighLoad's page", page).Body)
	// A restart between the page and its escalation: the step is kept.
	e.stop()
	e.start(t)
	got = nextWhere(t, alice, "an escalation", page)
	if want := "Escalated: not acknowledged after 3s.\n#" + loadCode + " [FIRING:1] HighLoad (severity=critical)"; !strings.HasPrefix(got.Body, want) {
		t.Errorf("alice's first message from the gateway:\n%s\nwant HighLoad's escalation (%s), never DiskFull's (%s), acknowledged", got.Body, loadCode, diskCode)
	}

	// A silence by SMS, created in Alertmanager by the phone.
	phone("SILENCE " + strings.ToLower(diskCode) + " 1h")
	told := nextWhere(t, bob, "the silence", page)
	m := regexp.MustCompile(`^#` + diskCode + ` silenced for 1h0m0s by \+15551234567 \(Alertmanager silence ([0-9a-f-]+)\)\.$`).FindStringSubmatch(told.Body)
	if m == nil {
		t.Fatalf("bob was told %q", told.Body)
	}
	silences, err := am.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(silences) != 1 {
		t.Fatalf("Alertmanager's silences: %+v", silences)
	}
	// The labels all of the group's alerts have: the group's, the route's
	// and the rest they share.
	matchers := map[string]string{}
	for _, x := range silences[0].Matchers {
		if x.IsEqual && !x.IsRegex {
			matchers[x.Name] = x.Value
		}
	}
	if len(silences) != 1 || silences[0].ID != m[1] || silences[0].CreatedBy != "+15551234567" || silences[0].Status.State != "active" ||
		len(silences[0].Matchers) != 3 || !maps.Equal(matchers, disk.Labels) ||
		!near(silences[0].EndsAt.Sub(silences[0].StartsAt), time.Hour) {
		t.Errorf("Alertmanager's silences: %+v", silences)
	}

	// HighLoad resolves: bob and alice, whom it escalated to, hear it.
	if err := am.Resolve(ctx, load); err != nil {
		t.Fatal(err)
	}
	resolved := "#" + loadCode + " [RESOLVED:1] HighLoad (severity=critical)\n- web-1: load 12"
	for _, c := range []*xmpptest.Client{bob, alice} {
		if got := nextWhere(t, c, "the resolution", page); got.Body != resolved {
			t.Errorf("%s got %q, want %q", c.JID, got.Body, resolved)
		}
	}
}

// A silence answer delivered again (after the gateway failed to record
// it) finds the silence it made in Alertmanager, by the answer's key in
// its comment: one answer, one silence. Another answer makes another.
func TestAlertmanagerSilenceOnce(t *testing.T) {
	am := amtest.StartT(t, amtest.Config{WebhookURL: "http://127.0.0.1:9/alerts", Token: alertsToken})
	ctx := testCtx(t)
	s := &alerts.Alertmanager{URL: am.URL, Client: &http.Client{Timeout: alerts.SilenceTimeout}}
	labels := map[string]string{"alertname": "DiskFull", "severity": "critical"}
	var ids []string
	for _, key := range []string{"sms\x00answer:SM1", "sms\x00answer:SM1", "sms\x00answer:SM2"} {
		id, err := s.Silence(ctx, labels, time.Hour, "+15551234567", "silenced from xmppgw by +15551234567 (#K4)", key)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] || ids[0] == ids[2] {
		t.Errorf("silence ids %q: want the first twice, then another", ids)
	}
	silences, err := am.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(silences) != 2 || !strings.HasPrefix(silences[0].Comment, "silenced from xmppgw by +15551234567 (#K4) [xmppgw alert-") {
		t.Errorf("Alertmanager's silences: %+v", silences)
	}
}

// A silence with a label of empty value ("label missing"): Alertmanager
// takes it, and the same answer again finds it rather than making another.
func TestAlertmanagerSilenceEmptyValueFoundAgain(t *testing.T) {
	am := amtest.StartT(t, amtest.Config{WebhookURL: "http://127.0.0.1:9/alerts", Token: alertsToken})
	ctx := testCtx(t)
	s := &alerts.Alertmanager{URL: am.URL, Client: &http.Client{Timeout: alerts.SilenceTimeout}}
	labels := map[string]string{"alertname": "DiskFull", "team": ""}
	var ids []string
	for range 2 {
		id, err := s.Silence(ctx, labels, time.Hour, "+15551234567", "silenced from xmppgw (#K4)", "sms\x00answer:SM1")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] {
		t.Errorf("the same answer twice made two silences: %q", ids)
	}
}
