//go:build integration

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"xmppgw/configs"
	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
)

const alertsToken = "e2e-alerts-token-0123456789"

// alertRoutes routes critical alerts to bob, a phone and a Telegram group, and
// every other alert to alice; alerts are sent as alice.
var alertRoutes = &gwtest.Alerts{Token: "${TEST_ALERTS_TOKEN}", From: "alice@example.test", Routes: []gwtest.Route{
	{Match: map[string]string{"severity": "critical"},
		To: []string{"bob@example.test", "+15551234567@sms.example.test", "-1001234@telegram.example.test"}},
	{To: []string{"alice@example.test"}},
}}

// startAlertEnv is startEnv with alerts in the config, and the address
// book names given (number or contact's JID -> name).
func startAlertEnv(t *testing.T, names ...map[string]string) *env {
	t.Helper()
	t.Setenv("TEST_ALERTS_TOKEN", alertsToken)
	t.Setenv("XMPPGW_ALERTS_TOKEN", "")
	o := envOptions{alerts: alertRoutes, tgChats: []botfake.Chat{tgGroup}}
	if len(names) > 0 {
		o.contacts = names[0]
	}
	return startEnv(t, o)
}

// alertCode is the code on a notification's first line (#CODE).
func alertCode(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`^#([A-Z0-9]{2,6}) `).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no #CODE at the start of %q", body)
	}
	return m[1]
}

// postAlerts posts body to the gateway's /alerts with token.
func postAlerts(t *testing.T, e *env, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), "POST", e.public+"/alerts", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// amAlert is one alert of an Alertmanager payload.
func amAlert(status, instance, severity, summary, fingerprint string) string {
	return fmt.Sprintf(`{"status": %q, "labels": {"alertname": "HighLatency", "instance": %q, "job": "api", "severity": %q},
	"annotations": {"summary": %q}, "startsAt": "2024-05-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
	"generatorURL": "http://prometheus.example.test/graph", "fingerprint": %q}`, status, instance, severity, summary, fingerprint)
}

// An Alertmanager notification with firing and resolved alerts is routed by
// severity: the critical ones reach an XMPP user, a phone (one SMS, from
// the alerts user's number) and a Telegram group; the others go to the
// default route. A retried POST delivers nothing twice; a wrong token gets
// 401; xmppgw send reaches a user; a failed SMS is reported to the alerts
// user.
func TestAlertsE2E(t *testing.T) {
	e := startAlertEnv(t)
	ctx := testCtx(t)
	alice, bob := e.login(t, "alice"), e.login(t, "bob")

	payload := `{"version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
	"status": "firing", "receiver": "xmppgw", "groupLabels": {"alertname": "HighLatency"},
	"commonLabels": {"alertname": "HighLatency", "job": "api"}, "commonAnnotations": {},
	"externalURL": "http://alertmanager.example.test:9093", "alerts": [` +
		amAlert("firing", "api-1:9090", "critical", "p99 latency 812ms", "a1") + "," +
		amAlert("firing", "api-2:9090", "critical", "p99 latency 790ms", "a2") + "," +
		amAlert("firing", "api-4:9090", "critical", "p99 latency 655ms", "a4") + "," +
		amAlert("resolved", "api-3:9090", "critical", "p99 latency 120ms", "a3") + "," +
		amAlert("firing", "api-9:9090", "warning", "p99 latency 420ms", "a9") + `]}`

	// Refused without the right token; nothing is queued.
	for _, token := range []string{"", "wrong-token-0123456789abc", alertsToken + "x"} {
		if status, body := postAlerts(t, e, token, payload); status != 401 {
			t.Errorf("token %q: got %d %s, want 401", token, status, body)
		}
	}

	status, body := postAlerts(t, e, alertsToken, payload)
	if status != 200 || body != `{"queued":4,"duplicates":0}` {
		t.Fatalf("POST /alerts: %d %s", status, body)
	}
	got := nextWhere(t, bob, "the alert", from("sms.example.test", "message", "chat"))
	c1 := alertCode(t, got.Body)
	critical := "#" + c1 + " [FIRING:3] HighLatency (severity=critical)\n" +
		"- api-1:9090: p99 latency 812ms\n- api-2:9090: p99 latency 790ms\n- api-4:9090: p99 latency 655ms\n" +
		"[RESOLVED:1]\n- api-3:9090: p99 latency 120ms\nReply \"ack " + c1 + "\" to acknowledge."
	if got.Body != critical {
		t.Errorf("bob got\n%s\nwant\n%s", got.Body, critical)
	}
	got = nextWhere(t, alice, "the default route's alert", from("sms.example.test", "message", "chat"))
	c2 := alertCode(t, got.Body)
	if want := "#" + c2 + " [FIRING:1] HighLatency (severity=warning)\n- api-9:9090: p99 latency 420ms\nReply \"ack " + c2 + "\" to acknowledge."; got.Body != want || c2 == c1 {
		t.Errorf("alice got\n%s\nwant\n%s", got.Body, want)
	}
	sms, err := e.twilio.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantSMS := "#" + c1 + " [FIRING:3] HighLatency (severity=critical)\n" +
		"- api-1:9090: p99 latency 812ms\n- api-2:9090: p99 latency 790ms\n- api-4:9090: p99 latency 655ms\n... +1 more"
	if m := sms[0]; m.From != aliceNum || m.To != "+15551234567" || m.Body != wantSMS || twiliofake.Segments(m.Body) != 1 {
		t.Errorf("Twilio got %+v, want From %s To +15551234567 Body\n%s", m, aliceNum, wantSMS)
	}
	tg, err := e.tg.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tg[0].Chat.ID != tgGroup.ID || tg[0].Text != critical {
		t.Errorf("Telegram got %+v", tg[0])
	}

	// Alertmanager retries the POST: stored once already.
	status, body = postAlerts(t, e, alertsToken, payload)
	if status != 200 || body != `{"queued":0,"duplicates":4}` {
		t.Errorf("retried POST: %d %s", status, body)
	}

	// xmppgw send, with the URL and token from the config; bob's next
	// message is this one, so the retry sent him nothing.
	var stdout, stderr bytes.Buffer
	if code := cmdSend(ctx, []string{"-config", e.cfgPath, "--to", "bob@example.test", "backup", "done"}, &stdout, &stderr); code != 0 ||
		stdout.String() != "queued 1 message\n" {
		t.Fatalf("xmppgw send: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	got = nextWhere(t, bob, "the sent text", from("sms.example.test", "message", "chat"))
	if got.Body != "backup done" {
		t.Errorf("bob got %q after xmppgw send; a repeated alert?", got.Body)
	}

	// A phone that cannot get SMS: alice, the alerts user, is told.
	e.twilio.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
		if m.To == "+15550009999" {
			return &twiliofake.APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
		}
		return nil
	})
	stdout.Reset()
	stderr.Reset()
	if code := send(ctx, []string{"-url", e.public + "/alerts", "-token", alertsToken, "--to", "+15550009999"},
		strings.NewReader("db1 disk full\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("xmppgw send: exit %d, stderr %q", code, stderr.String())
	}
	got = nextWhere(t, alice, "the failure", from("+15550009999@sms.example.test", "message", "chat"))
	if !strings.HasPrefix(got.Body, "Not delivered (") || !strings.Contains(got.Body, "21610") {
		t.Errorf("alice got %s", got.XML)
	}

	// Nothing was sent twice.
	time.Sleep(200 * time.Millisecond)
	if n := len(e.twilio.Messages()); n != 1 { // the failed one is not kept
		t.Errorf("Twilio took %d messages, want 1", n)
	}
	if n := len(e.tg.Sent()); n != 1 {
		t.Errorf("Telegram got %d messages, want 1", n)
	}

	// A wrong token from xmppgw send: exit 1 with the server's reason.
	stderr.Reset()
	if code := send(ctx, []string{"-url", e.public + "/alerts", "-token", "wrong-token-0123456789", "hi"}, nil, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "401 Unauthorized: a valid Authorization: Bearer token is required") {
		t.Errorf("wrong token: exit %d, stderr %q", code, stderr.String())
	}
}

// xmppgw send's command line, without a gateway.
func TestAlertsSendUsage(t *testing.T) {
	ctx := context.Background()
	t.Setenv("XMPPGW_ALERTS_TOKEN", "")
	tests := []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		0: {[]string{"hello"}, "", 2, "xmppgw send: give -url, or -config to take the address from"},
		1: {[]string{"-url", "http://127.0.0.1:1/alerts", "hello"}, "", 2, "xmppgw send: no token"},
		2: {[]string{"-url", "http://127.0.0.1:1/alerts", "-token", "t"}, " \n", 2, "xmppgw send: the text is empty"},
		3: {[]string{"-bogus"}, "", 2, "flag provided but not defined: -bogus"},
		4: {[]string{"-url", "http://127.0.0.1:1/alerts", "-token", "t", "hi"}, "", 1, "connection refused"},
	}
	for i, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := send(ctx, tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%d: exit %d, stderr %q; want %d, %q", i, code, stderr.String(), tt.code, tt.stderr)
		}
	}

	for _, tt := range []struct{ listen, want, err string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080/alerts", ""},
		{":8080", "http://127.0.0.1:8080/alerts", ""},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/alerts", ""},
		{"[::]:8080", "http://127.0.0.1:8080/alerts", ""},
		{"[::1]:8080", "http://[::1]:8080/alerts", ""},
		{"gw.internal:80", "http://gw.internal:80/alerts", ""},
		{"127.0.0.1:0", "", "http.listen has port 0, so the gateway's port is not known"},
	} {
		got, err := alertsURL(tt.listen)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("alertsURL(%q) = %q, %v", tt.listen, got, err)
		}
	}

	// Flags may come after the text; "--" ends them.
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var to listFlag
	fs.Var(&to, "to", "")
	words, ok := parseInterleaved(fs, []string{"disk", "full", "--to", "a@b", "on", "--", "--to", "x"})
	if !ok || strings.Join(words, " ") != "disk full on --to x" || fs.Lookup("to").Value.String() != "a@b" {
		t.Errorf("parsed %q, to %q", words, fs.Lookup("to").Value)
	}
}

// What config validation cannot see stops the start, naming the key: a
// contact that does not parse, or an alerts user without a number on the
// SMS transport it would send from.
func TestAlertsStartupErrors(t *testing.T) {
	dir := t.TempDir()
	conf := func(from, to string) string {
		c := gwtest.Config{
			XMPP:   gwtest.XMPP{Server: "127.0.0.1:1"},
			Store:  gwtest.Store{Path: dir + "/gw.db"},
			HTTP:   gwtest.HTTP{Listen: "127.0.0.1:0", PublicURL: "http://127.0.0.1"},
			Access: gwtest.Access{Allow: []string{"example.test"}},
			Transports: []gwtest.Transport{
				gwtest.SMSTransport("s3cret-s3cret-s3cret", gwtest.SMS{AccountSID: testSID, AuthToken: testToken,
					APIURL: "http://127.0.0.1:1", Numbers: map[string]string{"alice@example.test": aliceNum}}),
				gwtest.TelegramTransport("s3cret-s3cret-s3cret", gwtest.Telegram{Token: tgToken, APIURL: "http://127.0.0.1:1"}),
			},
			Alerts: &gwtest.Alerts{Token: alertsToken, From: from, Routes: []gwtest.Route{{To: []string{"ops@example.test", to}}}},
		}
		b, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct{ from, to, want string }{
		0: {"bob@example.test", "+15551234567@sms.example.test",
			`gw.yaml: alerts.routes[0].to[1]: +15551234567@sms.example.test: alerts are sent as bob@example.test, who has no SMS account on transport "sms" (add it to that transport's numbers)`},
		1: {"alice@example.test", "12@sms.example.test", `gw.yaml: alerts.routes[0].to[1]: sms: "12" is not a valid phone number (too short)`},
		2: {"bob@example.test", "chat@telegram.example.test",
			`gw.yaml: alerts.routes[0].to[1]: "chat" is not a Telegram chat id (want a number such as 123456789, or -100... for a group)`},
	}
	log := slog.New(slog.DiscardHandler)
	for i, tt := range tests {
		cfg, err := configs.Parse("gw.yaml", []byte(conf(tt.from, tt.to)), nil)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if err := serve(context.Background(), cfg, log, nil); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%d: got %v\nwant %s", i, err, tt.want)
		}
	}
}

// Recipients answer an alert where it reached them: the phone acknowledges
// with a bare "ack" by SMS (not relayed to the number's owner), everyone is
// told, by the name the address book gives the phone, the Telegram group
// asks for the status, bob takes the acknowledgement back from XMPP, a
// stranger learns nothing, and the resolution reaches everyone.
func TestAlertsAnswers(t *testing.T) {
	e := startAlertEnv(t, map[string]string{"+15551234567": "Dana Scully"})
	ctx := testCtx(t)
	alice, bob, mallory := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "mallory")
	payload := func(status string) string {
		return `{"version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "status": "` + status + `", "receiver": "xmppgw",
		"groupLabels": {"alertname": "HighLatency"}, "alerts": [` + amAlert(status, "db-1", "critical", "/var is 95% full", "d1") + `]}`
	}
	if status, body := postAlerts(t, e, alertsToken, payload("firing")); status != 200 || body != `{"queued":3,"duplicates":0}` {
		t.Fatalf("POST /alerts: %d %s", status, body)
	}
	code := alertCode(t, nextWhere(t, bob, "the page", from("sms.example.test", "message", "chat")).Body)
	if _, err := e.twilio.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	hook := e.public + "/hooks/sms/inbound"
	text := func(body string) {
		t.Helper()
		if _, status, err := e.twilio.SendInbound(ctx, hook, "+15551234567", aliceNum, body); err != nil || status != 200 {
			t.Fatalf("the phone's %q: %d %v", body, status, err)
		}
	}

	// The phone acknowledges: bob, the phone and the group are told.
	text("ack")
	acked := regexp.MustCompile(`^#` + code + ` acknowledged by Dana Scully \(\+15551234567\) at \d\d:\d\d UTC\.$`)
	if got := nextWhere(t, bob, "the acknowledgement", from("sms.example.test", "message", "chat")); !acked.MatchString(got.Body) {
		t.Errorf("bob was told %q", got.Body)
	}
	sms, err := e.twilio.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m := sms[1]; m.To != "+15551234567" || m.From != aliceNum || !acked.MatchString(m.Body) {
		t.Errorf("the phone was told %+v", m)
	}
	if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.SentTo(tgGroup.ID)) == 2 }); err != nil {
		t.Fatal(err)
	}
	if m := e.tg.SentTo(tgGroup.ID)[1]; !acked.MatchString(m.Text) {
		t.Errorf("the group was told %q", m.Text)
	}
	// Other texts are relayed as usual: alice, whose number the phone
	// texted, gets this one, with the phone's name (XEP-0172), and never
	// got the ack.
	text("on my way")
	if got := nextWhere(t, alice, "the phone's text", from("+15551234567@sms.example.test", "message", "chat")); got.Body != "on my way" ||
		!strings.Contains(got.XML, `<nick xmlns="http://jabber.org/protocol/nick">Dana Scully</nick>`) {
		t.Errorf("alice got %s from the phone, want its second text, with its name", got.XML)
	}

	// The Telegram group asks for the status, in the group.
	e.tg.UserSends(tgGroup, botfake.User{ID: 333, FirstName: "Carol"}, "Status")
	if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.SentTo(tgGroup.ID)) == 3 }); err != nil {
		t.Fatal(err)
	}
	status := regexp.MustCompile(`^Open alerts:\n#` + code + ` HighLatency \(severity=critical\): acknowledged by Dana Scully \(\+15551234567\) at \d\d:\d\d UTC$`)
	if m := e.tg.SentTo(tgGroup.ID)[2]; !status.MatchString(m.Text) {
		t.Errorf("the group's status: %q", m.Text)
	}

	// bob takes it back from XMPP, writing to the JID the page came from.
	if err := bob.Send(ctx, `<message type="chat" to="sms.example.test"><body>unack `+strings.ToLower(code)+`</body></message>`); err != nil {
		t.Fatal(err)
	}
	unacked := "#" + code + " is no longer acknowledged (bob@example.test took it back): escalation resumes."
	if got := nextWhere(t, bob, "the unack", from("sms.example.test", "message", "chat")); got.Body != unacked {
		t.Errorf("bob was told %q, want %q", got.Body, unacked)
	}

	// mallory, who may not use the gateway and got nothing, learns
	// nothing of it: her "ack" is refused as any message of hers.
	if err := mallory.Send(ctx, `<message type="chat" id="m1" to="sms.example.test"><body>ack `+code+`</body></message>`); err != nil {
		t.Fatal(err)
	}
	if got := nextWhere(t, mallory, "the answer", from("sms.example.test", "message", "error")); got.ErrorCondition != "forbidden" ||
		strings.Contains(got.XML, code) {
		t.Errorf("mallory was told %s", got.XML)
	}

	// A second alert: the group answers a bare "ack" as a Telegram reply
	// to its page, which names the alert among the two open.
	second := `{"version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": "firing", "receiver": "xmppgw",
		"groupLabels": {"alertname": "DiskFull"}, "alerts": [` + amAlert("firing", "db-2", "critical", "/var is full", "d2") + `]}`
	if status, body := postAlerts(t, e, alertsToken, second); status != 200 || body != `{"queued":3,"duplicates":0}` {
		t.Fatalf("POST /alerts: %d %s", status, body)
	}
	code2 := alertCode(t, nextWhere(t, bob, "the second page", from("sms.example.test", "message", "chat")).Body)
	var page botfake.Message
	if err := e.tg.WaitFor(ctx, func() bool {
		for _, m := range e.tg.SentTo(tgGroup.ID) {
			if strings.HasPrefix(m.Text, "#"+code2+" [FIRING:1]") {
				page = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the group never got the second page: %v", err)
	}
	// The gateway records the page's send just after Telegram takes it: a
	// reply quicker than that is not known as one yet, and is answered
	// "Which one?"; Carol then replies again, as a person would.
	acked2 := regexp.MustCompile(`^#` + code2 + ` acknowledged by -1001234@telegram\.example\.test at \d\d:\d\d UTC\.$`)
	for try := 1; ; try++ {
		n := len(e.tg.SentTo(tgGroup.ID))
		e.tg.UserReplies(tgGroup, botfake.User{ID: 333, FirstName: "Carol"}, "ack", page)
		var answer string
		if err := e.tg.WaitFor(ctx, func() bool {
			for _, m := range e.tg.SentTo(tgGroup.ID)[n:] {
				if strings.HasPrefix(m.Text, "Which one?") || acked2.MatchString(m.Text) {
					answer = m.Text
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatal(err)
		}
		if acked2.MatchString(answer) {
			t.Logf("the reply was taken at try %d", try)
			break
		}
		if try == 10 {
			t.Fatalf("a reply to the page is never taken as one: %q", answer)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := nextWhere(t, bob, "the reply's acknowledgement", from("sms.example.test", "message", "chat")); !acked2.MatchString(got.Body) {
		t.Errorf("bob was told %q", got.Body)
	}

	// It resolves: every recipient hears it.
	if status, body := postAlerts(t, e, alertsToken, payload("resolved")); status != 200 || body != `{"queued":3,"duplicates":0}` {
		t.Fatalf("POST /alerts resolved: %d %s", status, body)
	}
	resolved := "#" + code + " [RESOLVED:1] HighLatency (severity=critical)\n- db-1: /var is 95% full"
	if got := nextWhere(t, bob, "the resolution", from("sms.example.test", "message", "chat")); got.Body != resolved {
		t.Errorf("bob got %q, want %q", got.Body, resolved)
	}
}
