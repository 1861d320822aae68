package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/component/contacts"
	"xmppgw/mapping"
)

// deskRoutes page the on-call phone, XMPP user and Telegram chat for
// critical alerts, escalating to the lead after 5 minutes and to the
// lead's phone after 15.
var deskRoutes = []Route{
	{Match: map[string]string{"severity": "critical"}, To: []string{"oncall@example.com", "+15551234567", "-1001234@tg.test"},
		Escalate: []Step{{After: 5 * time.Minute, To: []string{"lead@example.com"}}, {After: 15 * time.Minute, To: []string{"+15550002222"}}}},
	{To: []string{"ops@example.com"}},
}

// deskEnv is a Handler with a Desk on a SQLite store, a clock the test
// moves, and a Silencer that records what it is asked.
type deskEnv struct {
	t           *testing.T
	h           *Handler
	q           *fakeQueue
	now         time.Time
	silences    []string
	silenceKeys map[string]string // key -> silence id
	silenceErr  error
}

func newDeskEnv(t *testing.T) *deskEnv {
	t.Helper()
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &deskEnv{t: t, q: &fakeQueue{}, now: time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)}
	e.h, err = New(Options{Token: testToken, Routes: deskRoutes, Queue: e.q, Book: s.Alerts(), Silencer: e,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.h.desk.now = func() time.Time { return e.now }
	return e
}

// Silence records a silence, once for each key, as Alertmanager does.
func (e *deskEnv) Silence(_ context.Context, labels map[string]string, d time.Duration, by, comment, key string) (string, error) {
	if e.silenceErr != nil {
		return "", e.silenceErr
	}
	if e.silenceKeys == nil {
		e.silenceKeys = map[string]string{}
	}
	if id, ok := e.silenceKeys[key]; ok {
		return id, nil
	}
	b, _ := json.Marshal(labels)
	e.silences = append(e.silences, string(b)+" "+d.String()+" "+by+" "+comment)
	e.silenceKeys[key] = "s-" + strconv.Itoa(len(e.silences))
	return e.silenceKeys[key], nil
}

// notify posts Alertmanager's notification of alerts (status:instance)
// of HighLatency, all critical, and returns the answer's body.
func (e *deskEnv) notify(alerts ...string) string {
	e.t.Helper()
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Resolved,
		GroupLabels: map[string]string{"alertname": "HighLatency"}}
	for _, a := range alerts {
		status, instance, _ := strings.Cut(a, ":")
		if status == Firing {
			n.Status = Firing
		}
		n.Alerts = append(n.Alerts, Alert{Status: status, Fingerprint: "fp-" + instance,
			Labels:      map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": instance},
			Annotations: map[string]string{"summary": "p99 latency high"}})
	}
	body, _ := json.Marshal(n)
	w := post(e.h, "POST", "Bearer "+testToken, string(body))
	if w.Code != 200 {
		e.t.Fatalf("POST /alerts: %d %s", w.Code, w.Body)
	}
	return strings.TrimSpace(w.Body.String())
}

// answer has from answer text, and returns whether it was taken.
func (e *deskEnv) answer(from, text, replyTo string, always bool) bool {
	e.t.Helper()
	handled, err := e.h.Desk().Answer(context.Background(), from, text, replyTo, "", always)
	if err != nil {
		e.t.Fatalf("%s answers %q: %v", from, text, err)
	}
	return handled
}

// sent is what was queued since the last call, as "to: text" lines.
func (e *deskEnv) sent() []string {
	var out []string
	for _, q := range e.q.take() {
		if !q.duplicated {
			out = append(out, q.to+": "+q.text)
		}
	}
	return out
}

func (e *deskEnv) expect(what string, want ...string) {
	e.t.Helper()
	got := e.sent()
	if strings.Join(got, "\n--\n") != strings.Join(want, "\n--\n") {
		e.t.Errorf("%s: sent\n%s\nwant\n%s", what, strings.Join(got, "\n--\n"), strings.Join(want, "\n--\n"))
	}
}

var codeRE = regexp.MustCompile(`^#([A-Z0-9]{2,6}) `)

// The whole loop: a page with a code, an acknowledgement by reply that
// everyone hears of, no repeats and no escalation after it, a change that
// needs a new one, escalation when nobody answers, and the resolution.
func TestDeskLoop(t *testing.T) {
	e := newDeskEnv(t)
	if got := e.notify("firing:api-1"); got != `{"queued":3,"duplicates":0}` {
		t.Fatalf("first page: %s", got)
	}
	page := e.q.take()
	m := codeRE.FindStringSubmatch(page[0].text)
	if m == nil {
		t.Fatalf("no code in %q", page[0].text)
	}
	code := m[1]
	full := "#" + code + " [FIRING:1] HighLatency (severity=critical)\n- api-1: p99 latency high\nReply \"ack " + code + "\" to acknowledge."
	sms := "#" + code + " [FIRING:1] HighLatency (severity=critical)\n- api-1: p99 latency high\nReply: ack " + code
	want := []queued{{"oncall@example.com", XMPP, "", full, false}, {"+15551234567@sms.test", SMS, "", sms, false}, {"-1001234@tg.test", Chat, "", full, false}}
	for i := range want {
		page[i].id = ""
		if page[i] != want[i] {
			t.Errorf("page %d: %+v\nwant %+v", i, page[i], want[i])
		}
	}

	// Someone who got nothing learns nothing; their texts are theirs.
	if e.answer("+15559999999", "ack "+code, "", false) {
		t.Error("a stranger's ack was taken")
	}
	if !e.answer("mallory@example.com", "ack "+code, "", true) {
		t.Error("an ack to the gateway was not answered")
	}
	e.expect("a stranger's ack", "mallory@example.com: No open alert #"+code+" was sent to you. You have no open alerts.")
	if e.answer("+15551234567", "thanks, looking", "", false) {
		t.Error("a plain text was taken as an answer")
	}

	// The phone acknowledges with a bare ack: everyone is told, once.
	e.now = e.now.Add(2 * time.Minute)
	if !e.answer("+15551234567@sms.test", "ACK", "", false) {
		t.Fatal("the phone's ack was not taken")
	}
	acked := "#" + code + " acknowledged by +15551234567 at 03:12 UTC."
	e.expect("ack", "oncall@example.com: "+acked, "+15551234567@sms.test: "+acked, "-1001234@tg.test: "+acked)
	e.answer("oncall@example.com", "ack #"+strings.ToLower(code), "", false)
	e.expect("a second ack", "oncall@example.com: #"+code+" was already acknowledged by +15551234567 at 03:12 UTC.")

	// Alertmanager's repeat is not sent, and nothing escalates.
	if got := e.notify("firing:api-1"); got != `{"queued":0,"duplicates":0,"suppressed":1}` {
		t.Errorf("repeat after ack: %s", got)
	}
	e.now = e.now.Add(time.Hour)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("escalation after ack")

	e.answer("-1001234@tg.test", "status", "", false)
	e.expect("status", "-1001234@tg.test: Open alerts:\n#"+code+" HighLatency (severity=critical): acknowledged by +15551234567 at 03:12 UTC")

	// A new alert in the group: everyone hears, and it needs a new ack.
	e.notify("firing:api-1", "firing:api-2")
	e.sent()
	e.now = e.now.Add(5 * time.Minute)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.sent()
	if len(got) != 1 || !strings.HasPrefix(got[0], "lead@example.com: Escalated: not acknowledged after 5m0s.\n#"+code+" [FIRING:2]") {
		t.Errorf("escalation: %q", got)
	}
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("escalation, again")

	// The lead now hears of it, and acknowledges by replying to the page.
	e.answer("lead@example.com", "ack", "", false)
	acked = "#" + code + " acknowledged by lead@example.com at 04:17 UTC."
	e.expect("the lead's ack", "oncall@example.com: "+acked, "+15551234567@sms.test: "+acked, "-1001234@tg.test: "+acked, "lead@example.com: "+acked)

	// It resolves: every recipient, the lead too, gets it, and the code is
	// free.
	e.notify("resolved:api-1", "resolved:api-2")
	resolved := "#" + code + " [RESOLVED:2] HighLatency (severity=critical)\n- api-1: p99 latency high\n- api-2: p99 latency high"
	e.expect("resolved", "oncall@example.com: "+resolved, "+15551234567@sms.test: "+resolved, "-1001234@tg.test: "+resolved, "lead@example.com: "+resolved)
	e.answer("lead@example.com", "ack "+code, "", true)
	e.expect("after resolution", "lead@example.com: No open alert #"+code+" was sent to you. You have no open alerts.")
}

// Unacknowledged, a group escalates step by step, each step once; unack
// lets it escalate again; silence asks the Silencer for the group's labels.
func TestDeskEscalationAndSilence(t *testing.T) {
	e := newDeskEnv(t)
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.now = e.now.Add(16 * time.Minute) // both steps are due
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.sent()
	if len(got) != 2 || !strings.HasPrefix(got[0], "lead@example.com: Escalated: not acknowledged after 5m0s.") ||
		got[1] != "+15550002222@sms.test: ESCALATED #"+code+" [FIRING:1] HighLatency (severity=critical)\n- db-1: p99 latency high\nReply: ack "+code {
		t.Errorf("escalation: %q", got)
	}

	// A bare ack with a code that is not theirs, and a silence.
	e.answer("+15550002222", "ack ZZZZ", "", false)
	e.expect("wrong code", "+15550002222@sms.test: No open alert #ZZZZ was sent to you. Your open alerts: #"+code+".")
	e.answer("+15550002222", "silence "+code, "", false)
	e.expect("silence without a duration", "+15550002222@sms.test: say for how long: silence "+code+" 2h")
	e.answer("+15550002222", "silence "+code+" 2h", "", false)
	told := "#" + code + " silenced for 2h0m0s by +15550002222 (Alertmanager silence s-1)."
	e.expect("silence", "oncall@example.com: "+told, "+15551234567@sms.test: "+told, "-1001234@tg.test: "+told,
		"lead@example.com: "+told, "+15550002222@sms.test: "+told)
	if len(e.silences) != 1 || e.silences[0] != `{"alertname":"HighLatency","instance":"db-1","severity":"critical"} 2h0m0s +15550002222 silenced from xmppgw by +15550002222 (#`+code+`)` {
		t.Errorf("silences asked: %q", e.silences)
	}
	e.silenceErr = errors.New("Alertmanager refused the silence (400): bad matcher")
	e.answer("+15550002222", "silence "+code+" 1d", "", false)
	e.expect("refused silence", "+15550002222@sms.test: #"+code+" is not silenced: Alertmanager refused the silence (400): bad matcher")
	gs, _ := e.h.desk.book.Groups(context.Background())
	for _, an := range gs[0].Answers {
		if an.Silence != nil {
			t.Errorf("a refused silence is still pending: %+v", an)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		text string
		want answer
		ok   bool
		err  string
	}{
		{"ack", answer{verb: "ack"}, true, ""},
		{" ACK  k4 ", answer{verb: "ack", code: "K4"}, true, ""},
		{"ack #k4", answer{verb: "ack", code: "K4"}, true, ""},
		{"unack K4", answer{verb: "unack", code: "K4"}, true, ""},
		{"Status", answer{verb: "status"}, true, ""},
		{"silence K4 2h", answer{verb: "silence", code: "K4", dur: 2 * time.Hour}, true, ""},
		{"silence K4 1d12h", answer{verb: "silence", code: "K4", dur: 36 * time.Hour}, true, ""},
		{"silence K4", answer{}, true, "say for how long: silence K4 2h"},
		{"silence K4 forever", answer{}, true, `"forever" is not a duration up to 30d: silence K4 2h (or 30m, 1d)`},
		{"silence K4 90d", answer{}, true, `"90d" is not a duration up to 30d: silence K4 2h (or 30m, 1d)`},
		{"ack is fine by me", answer{}, false, ""},
		{"ack K", answer{}, false, ""},
		{"ack TOOLONG7", answer{}, false, ""},
		{"status please", answer{}, false, ""},
		{"on my way", answer{}, false, ""},
		{"", answer{}, false, ""},
	}
	for _, tt := range tests {
		got, ok, err := parseAnswer(tt.text)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if got != tt.want || ok != tt.ok || errText != tt.err {
			t.Errorf("parseAnswer(%q) = %+v %v %q, want %+v %v %q", tt.text, got, ok, errText, tt.want, tt.ok, tt.err)
		}
	}
}

// Grafana's webhook contact point posts Alertmanager's fields and more
// (documented at grafana.com, "Configure webhook notifications"): it gets
// a code, and a silence of it matches the labels its alerts share, since
// Grafana sends no group labels here.
func TestDeskGrafana(t *testing.T) {
	body, err := os.ReadFile("testdata/grafana.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newDeskEnv(t)
	w := post(e.h, "POST", "Bearer "+testToken, string(body))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"queued":1,"duplicates":0}` {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	got := e.q.take()
	m := codeRE.FindStringSubmatch(got[0].text)
	if len(got) != 1 || m == nil || got[0].to != "ops@example.com" ||
		got[0].text != "#"+m[1]+" [FIRING:1] DiskFull\n- db-1: /var is 95% full\nReply \"ack "+m[1]+"\" to acknowledge." {
		t.Fatalf("queued %+v", got)
	}
	e.answer("ops@example.com", "silence "+m[1]+" 30m", "", false)
	if len(e.silences) != 1 || !strings.HasPrefix(e.silences[0], `{"alertname":"DiskFull","instance":"db-1","team":"db"} 30m0s ops@example.com`) {
		t.Errorf("silence: %q", e.silences)
	}
}

// With an address book, everyone is told the acknowledger's name.
func TestDeskNames(t *testing.T) {
	e := newDeskEnv(t)
	book := contacts.New(map[string]string{"+15551234567": "Dana Scully"}, nil, nil)
	e.h.desk.label = book.Label
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.answer("+15551234567", "ack", "", false)
	acked := "#" + code + " acknowledged by Dana Scully (+15551234567) at 03:10 UTC."
	e.expect("ack", "oncall@example.com: "+acked, "+15551234567@sms.test: "+acked, "-1001234@tg.test: "+acked)
}

// With two open alerts, a bare ack is ambiguous unless it replies to a
// notification (XEP-0461, a Telegram reply): then it is that one's. A
// silence without an Alertmanager says so.
func TestDeskReplies(t *testing.T) {
	e := newDeskEnv(t)
	e.h.desk.silencer = nil
	e.notify("firing:db-1")
	first := e.q.take()
	n := Notification{Version: "4", GroupKey: `{}:{alertname="DiskFull"}`, Receiver: "xmppgw", Status: Firing,
		GroupLabels: map[string]string{"alertname": "DiskFull"},
		Alerts:      []Alert{{Status: Firing, Fingerprint: "fp-disk", Labels: map[string]string{"alertname": "DiskFull", "severity": "critical"}}}}
	body, _ := json.Marshal(n)
	e.now = e.now.Add(time.Minute)
	if w := post(e.h, "POST", "Bearer "+testToken, string(body)); w.Code != 200 {
		t.Fatalf("second alert: %d %s", w.Code, w.Body)
	}
	second := e.q.take()
	c1, c2 := codeRE.FindStringSubmatch(first[0].text)[1], codeRE.FindStringSubmatch(second[0].text)[1]

	e.answer("-1001234@tg.test", "ack", "", false)
	e.expect("an ambiguous ack", "-1001234@tg.test: Which one? Answer ack CODE. Your open alerts: #"+c1+", #"+c2+".")
	// The Telegram chat's copy of the second page is second[2].
	if second[2].to != "-1001234@tg.test" {
		t.Fatalf("second page: %+v", second)
	}
	e.answer("-1001234@tg.test", "ack", second[2].id, false)
	acked := "#" + c2 + " acknowledged by -1001234@tg.test at 03:11 UTC."
	e.expect("a reply's ack", "oncall@example.com: "+acked, "+15551234567@sms.test: "+acked, "-1001234@tg.test: "+acked)
	// Now one is open and unacknowledged: a bare ack is it.
	e.answer("oncall@example.com", "ack", "", false)
	acked = "#" + c1 + " acknowledged by oncall@example.com at 03:11 UTC."
	e.expect("the last one's ack", "oncall@example.com: "+acked, "+15551234567@sms.test: "+acked, "-1001234@tg.test: "+acked)
	e.answer("oncall@example.com", "ack", "", false)
	e.expect("nothing left", "oncall@example.com: Every alert of yours is acknowledged. Your open alerts: #"+c1+", #"+c2+".")
	e.answer("oncall@example.com", "silence "+c1+" 1h", "", false)
	e.expect("no Alertmanager", "oncall@example.com: Silences are off: the gateway has no alerts.alertmanager_url.")
}

// A resolution the queue refuses leaves the group open: Alertmanager's
// retry reaches every recipient, the escalated ones too.
func TestDeskResolvedRetry(t *testing.T) {
	e := newDeskEnv(t)
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.now = e.now.Add(6 * time.Minute)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.q.take()
	e.q.err = errors.New("store down")
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Resolved,
		GroupLabels: map[string]string{"alertname": "HighLatency"},
		Alerts: []Alert{{Status: Resolved, Fingerprint: "fp-db-1", Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"},
			Annotations: map[string]string{"summary": "p99 latency high"}}}}
	body, _ := json.Marshal(n)
	if w := post(e.h, "POST", "Bearer "+testToken, string(body)); w.Code != 503 {
		t.Fatalf("a refused resolution: %d %s", w.Code, w.Body)
	}
	e.q.err = nil
	if got := e.notify("resolved:db-1"); got != `{"queued":4,"duplicates":0}` {
		t.Errorf("the retry: %s", got)
	}
	resolved := "#" + code + " [RESOLVED:1] HighLatency (severity=critical)\n- db-1: p99 latency high"
	e.expect("resolved", "oncall@example.com: "+resolved, "+15551234567@sms.test: "+resolved, "-1001234@tg.test: "+resolved, "lead@example.com: "+resolved)
}

// One alert of an acknowledged group resolving, the other still firing,
// is no new alert firing: the acknowledgement stays, and nothing
// escalates. A new alert then needs a new one.
func TestAckSurvivesPartialResolution(t *testing.T) {
	e := newDeskEnv(t)
	e.notify("firing:api-1", "firing:api-2")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.answer("+15551234567", "ack "+code, "", false)
	e.sent()
	// api-2 resolves; api-1 still fires. Everyone hears of it.
	e.now = e.now.Add(time.Minute)
	if got := e.notify("firing:api-1", "resolved:api-2"); got != `{"queued":3,"duplicates":0}` {
		t.Errorf("partial resolution: %s", got)
	}
	e.sent()
	e.answer("oncall@example.com", "status", "", false)
	e.expect("status", "oncall@example.com: Open alerts:\n#"+code+" HighLatency (severity=critical): acknowledged by +15551234567 at 03:10 UTC")
	e.now = e.now.Add(6 * time.Minute)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("escalation of the acknowledged group")

	// A new alert firing needs a new acknowledgement.
	e.notify("firing:api-1", "firing:api-3")
	e.sent()
	e.answer("oncall@example.com", "status", "", false)
	e.expect("status after a new alert", "oncall@example.com: Open alerts:\n#"+code+" HighLatency (severity=critical): not acknowledged")
}

// An Alertmanager group split by the routes: oncall gets the critical
// share, ops the warning one. oncall's silence matches the route's labels
// too, so it does not silence the alerts ops got.
func TestSilenceMatchesRouteShare(t *testing.T) {
	e := newDeskEnv(t)
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Firing,
		GroupLabels: map[string]string{"alertname": "HighLatency"},
		Alerts: []Alert{
			{Status: Firing, Fingerprint: "fp-1", Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "api-1"}},
			{Status: Firing, Fingerprint: "fp-2", Labels: map[string]string{"alertname": "HighLatency", "severity": "warning", "instance": "api-2"}},
		}}
	b, _ := json.Marshal(n)
	if w := post(e.h, "POST", "Bearer "+testToken, string(b)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	var code string
	for _, x := range e.q.take() {
		if x.to == "oncall@example.com" {
			code = codeRE.FindStringSubmatch(x.text)[1]
		}
	}
	e.answer("oncall@example.com", "silence "+code+" 2h", "", false)
	if want := `{"alertname":"HighLatency","instance":"api-1","severity":"critical"} 2h0m0s oncall@example.com silenced from xmppgw by oncall@example.com (#` + code + `)`; len(e.silences) != 1 || e.silences[0] != want {
		t.Errorf("oncall's silence of the critical share: %q, want %q", e.silences, want)
	}
}

// A bare ack replying to the page of a group that has resolved says so,
// and acknowledges no other; nor does one replying to a message that is
// no page.
func TestAckReplyToResolvedPage(t *testing.T) {
	e := newDeskEnv(t)
	e.notify("firing:db-1")
	first := e.q.take()
	n := Notification{Version: "4", GroupKey: `{}:{alertname="DiskFull"}`, Receiver: "xmppgw", Status: Firing,
		GroupLabels: map[string]string{"alertname": "DiskFull"},
		Alerts:      []Alert{{Status: Firing, Fingerprint: "fp-disk", Labels: map[string]string{"alertname": "DiskFull", "severity": "critical"}}}}
	body, _ := json.Marshal(n)
	if w := post(e.h, "POST", "Bearer "+testToken, string(body)); w.Code != 200 {
		t.Fatal(w.Code)
	}
	c2 := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.notify("resolved:db-1")
	e.sent()
	if first[2].to != "-1001234@tg.test" {
		t.Fatalf("first page: %+v", first)
	}
	e.answer("-1001234@tg.test", "ack", first[2].id, false)
	e.expect("a reply to the resolved page", "-1001234@tg.test: The alert you replied to has resolved. Your open alerts: #"+c2+".")
	e.answer("-1001234@tg.test", "ack", "some-other-message", false)
	e.expect("a reply to no page", "-1001234@tg.test: The message you replied to is not an open alert of yours. Your open alerts: #"+c2+".")
}

// blockingQueue is fakeQueue, but Queue blocks on a text containing
// block until release is closed.
type blockingQueue struct {
	fakeQueue
	block   string
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (q *blockingQueue) Queue(ctx context.Context, d Destination, id, text string) (bool, error) {
	if q.block != "" && strings.Contains(text, q.block) {
		q.once.Do(func() { close(q.reached) })
		<-q.release
	}
	return q.fakeQueue.Queue(ctx, d, id, text)
}

// A resolution being queued as an escalation falls due: the group is
// resolved by then, so nobody is paged for it, and every recipient is told
// it resolved before it closes.
func TestEscalationDuringResolution(t *testing.T) {
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := &blockingQueue{reached: make(chan struct{}), release: make(chan struct{})}
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)
	h, err := New(Options{Token: testToken, Routes: deskRoutes, Queue: q, Book: s.Alerts(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.desk.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	mkBody := func(status string) string {
		n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: status,
			GroupLabels: map[string]string{"alertname": "HighLatency"},
			Alerts: []Alert{{Status: status, Fingerprint: "fp-db-1",
				Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"}}}}
		b, _ := json.Marshal(n)
		return string(b)
	}
	if w := post(h, "POST", "Bearer "+testToken, mkBody(Firing)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	code := codeRE.FindStringSubmatch(q.take()[0].text)[1]
	// 5 minutes later, the resolution comes just as the escalation is due.
	mu.Lock()
	now = now.Add(5 * time.Minute)
	mu.Unlock()
	q.block = "RESOLVED"
	done := make(chan int)
	go func() { done <- post(h, "POST", "Bearer "+testToken, mkBody(Resolved)).Code }()
	<-q.reached
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(q.release)
	if c := <-done; c != 200 {
		t.Fatal(c)
	}
	resolved := "#" + code + " [RESOLVED:1] HighLatency (severity=critical)\n- db-1"
	var got []string
	for _, x := range q.take() {
		got = append(got, x.to+": "+x.text)
	}
	want := []string{"oncall@example.com: " + resolved, "+15551234567@sms.test: " + resolved, "-1001234@tg.test: " + resolved}
	if strings.Join(got, "\n--\n") != strings.Join(want, "\n--\n") {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n--\n"), strings.Join(want, "\n--\n"))
	}
	gs, _ := s.Alerts().Groups(context.Background())
	if len(gs) != 0 {
		t.Errorf("open groups: %d", len(gs))
	}
}

// limitedQueue refuses texts to limited over a rate cap (the alerts
// user's hourly SMS limit) while limit is set.
type limitedQueue struct {
	fakeQueue
	limit   bool
	limited string
}

func (q *limitedQueue) Queue(ctx context.Context, d Destination, id, text string) (bool, error) {
	if q.limit && d.JID == q.limited {
		return false, ErrLimited
	}
	return q.fakeQueue.Queue(ctx, d, id, text)
}

// A resolution a rate cap refuses for one recipient is answered 429 and
// leaves the group open, escalating no more: Alertmanager's retry reaches
// that recipient, and closes it.
func TestResolvedRefusedOverRateCap(t *testing.T) {
	e := newDeskEnv(t)
	q := &limitedQueue{limited: "+15551234567@sms.test"}
	e.q = &q.fakeQueue
	e.h.q, e.h.desk.q = q, q
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	q.limit = true
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Resolved,
		GroupLabels: map[string]string{"alertname": "HighLatency"},
		Alerts: []Alert{{Status: Resolved, Fingerprint: "fp-db-1", Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"},
			Annotations: map[string]string{"summary": "p99 latency high"}}}}
	body, _ := json.Marshal(n)
	if w := post(e.h, "POST", "Bearer "+testToken, string(body)); w.Code != 429 ||
		strings.TrimSpace(w.Body.String()) != `{"queued":2,"duplicates":0,"error":"over the rate limit"}` {
		t.Fatalf("a resolution refused over the cap: %d %s", w.Code, w.Body)
	}
	resolved := "#" + code + " [RESOLVED:1] HighLatency (severity=critical)\n- db-1: p99 latency high"
	e.expect("refused resolution", "oncall@example.com: "+resolved, "-1001234@tg.test: "+resolved)
	e.now = e.now.Add(time.Hour)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("escalation of the resolved group")
	q.limit = false
	if got := e.notify("resolved:db-1"); got != `{"queued":1,"duplicates":2}` {
		t.Errorf("the retry: %s", got)
	}
	e.expect("the retry", "+15551234567@sms.test: "+resolved)
	e.answer("oncall@example.com", "status", "", true)
	e.expect("after the retry", "oncall@example.com: You have no open alerts.")
}

// An escalation step a rate cap refuses for the lead's phone stays due:
// the lead's XMPP page goes once, and the phone's once the cap frees.
func TestEscalationRetriedOverRateCap(t *testing.T) {
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := &limitedQueue{limited: "+15550002222@sms.test"}
	now := time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)
	h, err := New(Options{Token: testToken, Routes: deskRoutes, Queue: q, Book: s.Alerts(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.desk.now = func() time.Time { return now }
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Firing,
		Alerts: []Alert{{Status: Firing, Fingerprint: "fp-db-1",
			Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"}}}}
	b, _ := json.Marshal(n)
	if w := post(h, "POST", "Bearer "+testToken, string(b)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	q.take()
	now = now.Add(16 * time.Minute)
	q.limit = true
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); len(got) != 1 || got[0].to != "lead@example.com" {
		t.Errorf("escalation under the cap: %+v", got)
	}
	now = now.Add(time.Minute)
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); len(got) != 0 {
		t.Errorf("escalation retried under the cap: %+v", got)
	}
	// An hour later the cap has room again; still firing, still unacknowledged.
	q.limit = false
	now = now.Add(time.Hour)
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := q.take()
	if len(got) != 1 || got[0].to != q.limited || !strings.HasPrefix(got[0].text, "ESCALATED #") {
		t.Errorf("escalation once the cap frees: %+v", got)
	}
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); len(got) != 0 {
		t.Errorf("escalation after the step: %+v", got)
	}
}

// failingBook fails Save once when failSave is set.
type failingBook struct {
	Book
	failSave bool
}

func (b *failingBook) Save(ctx context.Context, g mapping.AlertGroup) error {
	if b.failSave {
		b.failSave = false
		return errors.New("store busy")
	}
	return b.Book.Save(ctx, g)
}

// An answer is acted on once: after a failed save, its delivery again
// (same key) makes no second silence, and tells everyone once; a delivery
// after a successful one does nothing.
func TestAnswerActedOnOnce(t *testing.T) {
	for _, verb := range []string{"silence %s 2h", "ack %s"} {
		t.Run(strings.Fields(verb)[0], func(t *testing.T) {
			e := newDeskEnv(t)
			fb := &failingBook{Book: e.h.desk.book}
			e.h.desk.book = fb
			e.notify("firing:db-1")
			code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
			text := fmt.Sprintf(verb, code)
			fb.failSave = true
			if _, err := e.h.Desk().Answer(context.Background(), "+15551234567", text, "", "ev-1", false); err == nil {
				t.Fatal("no error from a failed save")
			}
			e.now = e.now.Add(time.Minute)
			var told []string
			for range 2 { // delivered again, after the error; and again
				if handled, err := e.h.Desk().Answer(context.Background(), "+15551234567", text, "", "ev-1", false); !handled || err != nil {
					t.Fatalf("delivered again: %v %v", handled, err)
				}
				told = append(told, e.sent()...)
			}
			want := "#" + code + " silenced for 2h0m0s by +15551234567 (Alertmanager silence s-1)."
			if verb == "ack %s" {
				want = "#" + code + " acknowledged by +15551234567 at 03:11 UTC."
			}
			if got, w := strings.Join(told, "\n"), "oncall@example.com: "+want+"\n+15551234567@sms.test: "+want+"\n-1001234@tg.test: "+want; got != w {
				t.Errorf("told\n%s\nwant\n%s", got, w)
			}
			if verb == "silence %s 2h" && len(e.silences) != 1 {
				t.Errorf("silences: %q", e.silences)
			}
		})
	}
}

// A client reusing stanza ids sends "ack K" under an id it used for "ack
// K" before (after an unack, an hour later): the gateway gives the desk
// the key of the first delivery's time (component.xmppAnswerOnce), another
// than the first's, so the new ack is acted on, not dropped as delivered
// again.
func TestAckUnderReusedIDLaterActedOn(t *testing.T) {
	e := newDeskEnv(t)
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	key := func(text string, window int) string {
		return "xmpp\x00answer-xmpp:oncall@example.com\x001\x00hash(" + text + ")\x00" + strconv.Itoa(window)
	}
	ans := func(text, key string) {
		t.Helper()
		if _, err := e.h.Desk().Answer(context.Background(), "oncall@example.com", text, "", key, false); err != nil {
			t.Fatal(err)
		}
	}
	ans("ack "+code, key("ack", 0))
	e.now = e.now.Add(time.Minute)
	ans("unack "+code, key("unack", 0))
	e.sent()
	e.now = e.now.Add(time.Hour)
	ans("ack "+code, key("ack", 6))
	got := e.sent()
	gs, _ := e.h.desk.book.Groups(context.Background())
	if len(gs) != 1 || gs[0].AckedBy == "" {
		t.Errorf("a new ack an hour later under a reused id: group acked by %q, sent %q", gs[0].AckedBy, got)
	}
}

// An acknowledgement's notice a rate cap refuses for one recipient is sent
// to them, once, on a run of Escalate once the cap has room.
func TestNoticeRetriedOverRateCap(t *testing.T) {
	e := newDeskEnv(t)
	q := &limitedQueue{limited: "+15551234567@sms.test"}
	e.q = &q.fakeQueue
	e.h.q, e.h.desk.q = q, q
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	q.limit = true
	e.answer("oncall@example.com", "ack", "", false)
	acked := "#" + code + " acknowledged by oncall@example.com at 03:10 UTC."
	e.expect("ack under the cap", "oncall@example.com: "+acked, "-1001234@tg.test: "+acked)
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("retried under the cap")
	q.limit = false
	if err := e.h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.expect("once the cap has room, before the backoff has passed")
	e.now = e.now.Add(retryFirst)
	for range 2 {
		if err := e.h.Desk().Escalate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	e.expect("once the cap has room", "+15551234567@sms.test: "+acked)
}

// A restart with a route added before an open group's: the group is found
// by its route's identity, not its index; its resolution closes it, and it
// is never escalated by another route's steps. A group whose route left
// the config is not escalated, and its resolution still closes it.
func TestGroupsSurviveRouteEdits(t *testing.T) {
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := &fakeQueue{}
	now := time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)
	mk := func(routes []Route) *Handler {
		h, err := New(Options{Token: testToken, Routes: routes, Queue: q, Book: s.Alerts(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h.desk.now = func() time.Time { return now }
		return h
	}
	h1 := mk(deskRoutes)
	body := func(status string) string {
		n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: status,
			GroupLabels: map[string]string{"alertname": "HighLatency"},
			Alerts: []Alert{{Status: status, Fingerprint: "fp-db-1",
				Labels: map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"}}}}
		b, _ := json.Marshal(n)
		return string(b)
	}
	if w := post(h1, "POST", "Bearer "+testToken, body(Firing)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	q.take()
	// Restart with a new first route (for another team).
	routes2 := append([]Route{{Match: map[string]string{"team": "web"}, To: []string{"web@example.com"},
		Escalate: []Step{{After: time.Minute, To: []string{"web-lead@example.com"}}}}}, deskRoutes...)
	h2 := mk(routes2)
	if w := post(h2, "POST", "Bearer "+testToken, body(Resolved)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	q.take()
	gs, _ := s.Alerts().Groups(context.Background())
	if len(gs) != 0 {
		t.Errorf("after the resolution, %d group(s) still open (code %s, route %d)", len(gs), gs[0].Code, gs[0].Route)
	}
	now = now.Add(20 * time.Minute)
	if err := h2.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, x := range q.take() {
		t.Errorf("escalated after the alert resolved: %s: %q", x.to, x.text)
	}

	// The route edited (a destination added): the open group's route is
	// gone. Not escalated; closed by its resolution all the same.
	h1 = mk(deskRoutes)
	now = now.Add(time.Minute)
	if w := post(h1, "POST", "Bearer "+testToken, body(Firing)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	q.take()
	edited := slices.Clone(routes2)
	edited[1].To = append(slices.Clone(edited[1].To), "ops@example.com")
	h3 := mk(edited)
	now = now.Add(20 * time.Minute)
	if err := h3.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, x := range q.take() {
		t.Errorf("escalated by a route no longer in the config: %s: %q", x.to, x.text)
	}
	if w := post(h3, "POST", "Bearer "+testToken, body(Resolved)); w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	if got := len(q.take()); got != 3 {
		t.Errorf("the resolution went to %d recipients, want 3", got)
	}
	if gs, _ := s.Alerts().Groups(context.Background()); len(gs) != 0 {
		t.Errorf("after the resolution, %d group(s) still open", len(gs))
	}
}

// shareEnv is a SQLite store, a limitedQueue and a clock, for Handlers
// with routes of the test's choosing (handler).
type shareEnv struct {
	t   *testing.T
	s   *mapping.Store
	q   *limitedQueue
	now time.Time
}

func newShareEnv(t *testing.T) *shareEnv {
	s, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &shareEnv{t: t, s: s, q: &limitedQueue{}, now: time.Date(2026, 12, 4, 3, 10, 0, 0, time.UTC)}
}

func (e *shareEnv) handler(routes []Route, book Book) *Handler {
	if book == nil {
		book = e.s.Alerts()
	}
	h, err := New(Options{Token: testToken, Routes: routes, Queue: e.q, Book: book, Silencer: &labelSilencer{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	h.desk.now = func() time.Time { return e.now }
	return h
}

// labelSilencer records the labels of each silence.
type labelSilencer struct{ labels []map[string]string }

func (r *labelSilencer) Silence(_ context.Context, labels map[string]string, _ time.Duration, _, _, _ string) (string, error) {
	r.labels = append(r.labels, labels)
	return "s-1", nil
}

// shareBody is a notification of HighLatency with alerts "status:instance:severity".
func shareBody(alerts ...string) string {
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Resolved,
		GroupLabels: map[string]string{"alertname": "HighLatency"}}
	for _, a := range alerts {
		f := strings.Split(a, ":")
		if f[0] == Firing {
			n.Status = Firing
		}
		n.Alerts = append(n.Alerts, Alert{Status: f[0], Fingerprint: "fp-" + f[1],
			Labels: map[string]string{"alertname": "HighLatency", "severity": f[2], "instance": f[1]}})
	}
	b, _ := json.Marshal(n)
	return string(b)
}

func (e *shareEnv) post(h *Handler, body string) {
	e.t.Helper()
	if w := post(h, "POST", "Bearer "+testToken, body); w.Code != 200 {
		e.t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
}

// A route added ahead of an open group's route, taking its alerts (README:
// "routes added or reordered leave it be"): the resolution, the new
// route's share, closes the old group, which escalates no more.
func TestRouteAddedAheadResolvesOldGroup(t *testing.T) {
	e := newShareEnv(t)
	h1 := e.handler(deskRoutes, nil)
	e.post(h1, shareBody("firing:db-1:critical"))
	e.q.take()
	routes2 := append([]Route{{Match: map[string]string{"instance": "db-1"}, To: []string{"dba@example.com"}}}, deskRoutes...)
	h2 := e.handler(routes2, nil)
	e.post(h2, shareBody("resolved:db-1:critical"))
	e.q.take()
	e.now = e.now.Add(20 * time.Minute)
	if err := h2.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, x := range e.q.take() {
		t.Errorf("escalated after the alert resolved: %s: %q", x.to, x.text)
	}
	if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 0 {
		t.Errorf("after the resolution, %d group(s) still open (code %s)", len(gs), gs[0].Code)
	}
}

// A route removed whose alerts now fall to another route that already has
// a group of the same Alertmanager group: the resolution closes the orphan
// too (README: "its resolution closes it either way").
func TestRouteRemovedOrphanClosedByResolution(t *testing.T) {
	e := newShareEnv(t)
	h1 := e.handler(deskRoutes, nil)
	e.post(h1, shareBody("firing:db-1:critical", "firing:db-2:warning"))
	e.q.take()
	if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 2 {
		t.Fatalf("groups: %d", len(gs))
	}
	h2 := e.handler(deskRoutes[1:], nil) // the critical route removed
	e.post(h2, shareBody("resolved:db-1:critical", "resolved:db-2:warning"))
	e.q.take()
	if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 0 {
		t.Errorf("after the resolution, %d group(s) still open (code %s, recipients %v)", len(gs), gs[0].Code, gs[0].Recipients)
	}
}

// A route added ahead of an open group's route, taking all its firing
// alerts: the new route's share takes the group, code and all, and its
// recipients; no second group is opened for the same alerts. (Had the old
// route kept some of them, the group would have stayed its.)
func TestRouteAddedAheadTakesFiringGroup(t *testing.T) {
	e := newShareEnv(t)
	h1 := e.handler(deskRoutes, nil)
	e.post(h1, shareBody("firing:db-1:critical"))
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	routes2 := append([]Route{{Match: map[string]string{"instance": "db-1"}, To: []string{"dba@example.com"}}}, deskRoutes...)
	h2 := e.handler(routes2, nil)
	e.post(h2, shareBody("firing:db-1:critical"))
	var got []string
	for _, x := range e.q.take() {
		got = append(got, x.to+": #"+codeRE.FindStringSubmatch(x.text)[1])
	}
	slices.Sort(got)
	gs, _ := e.s.Alerts().Groups(context.Background())
	if len(gs) != 1 || !slices.Contains(got, "dba@example.com: #"+code) || !slices.Contains(got, "oncall@example.com: #"+code) {
		t.Errorf("after the new route took db-1: %d groups, sent %q; want dba and the old recipients sent #%s", len(gs), got, code)
	}
}

// A route added ahead adopts an open group (its alert db-1 is the new
// route's now), then a new critical alert fires next to db-1: the critical
// route's share opens a group of its own, whose key is not the adopted
// group's (which was opened by the critical route): every notification of
// the Alertmanager group is taken, not answered 503.
func TestAdoptedGroupLeavesItsRouteRoomForANewGroup(t *testing.T) {
	e := newShareEnv(t)
	h1 := e.handler(deskRoutes, nil)
	e.post(h1, shareBody("firing:db-1:critical"))
	e.q.take()
	routes2 := append([]Route{{Match: map[string]string{"instance": "db-1"}, To: []string{"dba@example.com"}}}, deskRoutes...)
	h2 := e.handler(routes2, nil)
	e.post(h2, shareBody("firing:db-1:critical")) // adopted
	e.q.take()
	for try := range 2 {
		if w := post(h2, "POST", "Bearer "+testToken, shareBody("firing:db-1:critical", "firing:db-3:critical")); w.Code != 200 {
			t.Errorf("try %d: db-3 fires next to the adopted db-1: %d %s", try, w.Code, strings.TrimSpace(w.Body.String()))
		}
	}
	if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 2 {
		t.Errorf("groups open: %d, want 2 (the adopted db-1, the critical db-3)", len(gs))
	}
}

// A route added ahead takes an open group's alert db-1, which resolves
// while a new alert (db-3) fires in the group's own route, in one
// notification: the group is left to its route, which still fires, and
// db-3 is paged under its code (it was closed and a new group opened under
// its key: 503 on every retry).
func TestResolutionBesideNewAlertLeavesGroupToItsRoute(t *testing.T) {
	e := newShareEnv(t)
	h1 := e.handler(deskRoutes, nil)
	e.post(h1, shareBody("firing:db-1:critical"))
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	routes2 := append([]Route{{Match: map[string]string{"instance": "db-1"}, To: []string{"dba@example.com"}}}, deskRoutes...)
	h2 := e.handler(routes2, nil)
	body := shareBody("resolved:db-1:critical", "firing:db-3:critical")
	for try := range 2 {
		if w := post(h2, "POST", "Bearer "+testToken, body); w.Code != 200 {
			t.Fatalf("try %d: %d %s", try, w.Code, strings.TrimSpace(w.Body.String()))
		}
	}
	paged := false
	for _, x := range e.q.take() {
		if x.to == "oncall@example.com" && strings.HasPrefix(x.text, "#"+code+" [FIRING:1]") && strings.Contains(x.text, "db-3") {
			paged = true
		}
	}
	gs, _ := e.s.Alerts().Groups(context.Background())
	if !paged || len(gs) != 1 || gs[0].Code != code || gs[0].Firing != "fp-db-3" {
		t.Errorf("db-3 paged as #%s: %v; groups %+v", code, paged, gs)
	}
}

// Team a's route edited (a new identity) with team b's route ahead of it:
// team b's firing share, with no group of its own, does not adopt team
// a's orphan, with which it shares no alert; team a's share, whose alert
// the orphan has, takes it, code and all.
func TestOrphanNotAdoptedWithoutSharedAlert(t *testing.T) {
	e := newShareEnv(t)
	v1 := []Route{
		{Match: map[string]string{"team": "a"}, To: []string{"alice@example.com"}},
		{Match: map[string]string{"team": "b"}, To: []string{"bob@example.com"}},
	}
	h1 := e.handler(v1, nil)
	mk := func(alerts ...Alert) Notification {
		return Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Firing,
			GroupLabels: map[string]string{"alertname": "HighLatency"}, Alerts: alerts}
	}
	a1 := hl(Firing, "db-1", map[string]string{"team": "a"})
	b1 := hl(Firing, "db-2", map[string]string{"team": "b"})
	postN(t, h1, mk(a1))
	codeA := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	v2 := []Route{
		{Match: map[string]string{"team": "b"}, To: []string{"bob@example.com"}},
		{Match: map[string]string{"team": "a"}, To: []string{"alice@example.com", "alice-phone@example.com"}}, // edited
	}
	h2 := e.handler(v2, nil)
	postN(t, h2, mk(a1, b1))
	var got []string
	for _, x := range e.q.take() {
		got = append(got, x.to+": "+strings.SplitN(x.text, "\n", 2)[0])
	}
	slices.Sort(got)
	gs, _ := e.s.Alerts().Groups(context.Background())
	for _, g := range gs {
		if g.Code == codeA && (g.RouteID != h2.routes[1].id || g.Firing != "fp-db-1") {
			t.Errorf("team a's #%s taken by team b's route (firing %s, recipients %v)", codeA, g.Firing, g.Recipients)
		}
	}
	if len(gs) != 2 || !slices.Contains(got, "alice-phone@example.com: #"+codeA+" [FIRING:1] HighLatency") ||
		slices.Contains(got, "bob@example.com: #"+codeA+" [FIRING:1] HighLatency") {
		t.Errorf("%d groups; sent %q", len(gs), got)
	}
}

// The critical route removed; a resolution of both shares, all the
// catch-all's now, closes its own group and the critical orphan, whose
// notice the cap refuses for the phone (429): the orphan is kept open with
// its route, so the catch-all's next warning is not sent to the critical
// recipients under its code, and Alertmanager's retry closes it.
func TestResolvedOrphanKeptOpenKeepsItsRoute(t *testing.T) {
	for _, next := range []string{"warning", "retry"} {
		t.Run(next, func(t *testing.T) {
			e := newShareEnv(t)
			h1 := e.handler(deskRoutes, nil)
			e.post(h1, shareBody("firing:db-1:critical"))
			e.now = e.now.Add(time.Minute) // the orphan is the older group
			e.post(h1, shareBody("firing:db-1:critical", "firing:db-2:warning"))
			e.q.take()
			h2 := e.handler(deskRoutes[1:], nil)
			e.q.limited, e.q.limit = "+15551234567@sms.test", true
			resolution := shareBody("resolved:db-1:critical", "resolved:db-2:warning")
			if w := post(h2, "POST", "Bearer "+testToken, resolution); w.Code != 429 {
				t.Fatalf("resolution under the cap: %d %s", w.Code, w.Body)
			}
			e.q.take()
			e.q.limit = false
			if next == "warning" {
				e.post(h2, shareBody("firing:db-5:warning"))
				for _, x := range e.q.take() {
					if x.to != "ops@example.com" {
						t.Errorf("a warning of the catch-all route (ops) sent to %s: %.60q", x.to, x.text)
					}
				}
				return
			}
			e.post(h2, resolution)
			var got []string
			for _, x := range e.q.take() {
				if !x.duplicated {
					got = append(got, x.to)
				}
			}
			if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 0 || !slices.Equal(got, []string{"+15551234567@sms.test"}) {
				t.Errorf("after the retry: %d group(s) open, sent to %q (want the phone alone)", len(gs), got)
			}
		})
	}
}

// A group opened before the upgrade (migration 017: route_id = "") with
// the config unchanged escalates by its route's index, as before, and is
// stored with that route's identity.
func TestLegacyGroupEscalatesByIndex(t *testing.T) {
	e := newShareEnv(t)
	h := e.handler(deskRoutes, nil)
	gk := `{}:{alertname="HighLatency"}`
	g := mapping.AlertGroup{Key: hashID("group", "xmppgw", gk, "0"), Code: "K4", Route: 0, Subject: "HighLatency",
		Labels: map[string]string{"alertname": "HighLatency"}, Firing: "fp-db-1", FullText: "#K4 [FIRING:1] HighLatency",
		SMSText: "#K4 [FIRING:1]", Recipients: []string{"oncall@example.com"}, Since: e.now}
	if err := e.s.Alerts().Open(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(6 * time.Minute)
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.q.take(); len(got) != 1 || got[0].to != "lead@example.com" {
		t.Errorf("an open group from before the upgrade, unacknowledged 6 minutes: escalated to %+v, want lead@example.com", got)
	}
	if gs, _ := e.s.Alerts().Groups(context.Background()); len(gs) != 1 || gs[0].RouteID != h.routes[0].id || gs[0].Steps != 1 {
		t.Errorf("stored after escalating: %+v, want route %s and 1 step", gs, h.routes[0].id)
	}
}

// A recipient over the cap while a user answers again and again: the
// group keeps at most maxAnswers answers, the recipient waits for the
// latest notice only (a later state supersedes an earlier), and one run
// of Escalate tries no more than that; once the cap has room, the
// recipient is told the latest.
func TestAnswersBoundedWhileRefused(t *testing.T) {
	e := newShareEnv(t)
	h := e.handler(deskRoutes, nil)
	e.post(h, shareBody("firing:db-1:critical"))
	e.q.take()
	e.q.limited, e.q.limit = "+15551234567@sms.test", true
	for i := range 200 {
		verb := "ack"
		if i%2 == 1 {
			verb = "unack"
		}
		gs, _ := e.s.Alerts().Groups(context.Background())
		if _, err := h.Desk().Answer(context.Background(), "oncall@example.com", verb+" "+gs[0].Code, "", "", false); err != nil {
			t.Fatal(err)
		}
	}
	gs, _ := e.s.Alerts().Groups(context.Background())
	b, _ := json.Marshal(gs[0].Answers)
	if len(gs[0].Answers) > maxAnswers {
		t.Errorf("200 answers, one recipient over the cap: %d answers kept (%d bytes of JSON), bound %d", len(gs[0].Answers), len(b), maxAnswers)
	}
	// and every one is retried on each run of Escalate
	e.q.take()
	calls := 0
	cq := &countingQueue{limitedQueue: e.q, n: &calls}
	h.desk.q = cq
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls > maxAnswers {
		t.Errorf("one run of Escalate: %d refused Queue calls (each counts OverQuota)", calls)
	}
	e.q.take()
	e.q.limit = false
	e.now = e.now.Add(time.Hour)
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, x := range e.q.take() {
		if x.to == "+15551234567@sms.test" {
			told = append(told, x.text)
		}
	}
	if len(told) != 1 || !strings.HasPrefix(told[0], "#"+gs[0].Code+" is no longer acknowledged") {
		t.Errorf("once the cap has room, told the phone %d notices (%.200q); want the latest alone", len(told), told)
	}
}

// countingBook counts Saves.
type countingBook struct {
	Book
	saves int
}

func (b *countingBook) Save(ctx context.Context, g mapping.AlertGroup) error {
	b.saves++
	return b.Book.Save(ctx, g)
}

// countingQueue counts Queue calls in n.
type countingQueue struct {
	*limitedQueue
	n *int
}

func (q *countingQueue) Queue(ctx context.Context, d Destination, id, text string) (bool, error) {
	*q.n++
	return q.limitedQueue.Queue(ctx, d, id, text)
}

// An escalation step still refused over the cap: the runs of Escalate
// that change nothing write nothing to the store (each Save held off
// Prune), and the page is tried again after 30 s, then less and less
// often, up to every 5 minutes, not every second.
func TestRefusedEscalationBacksOff(t *testing.T) {
	e := newShareEnv(t)
	cb := &countingBook{Book: e.s.Alerts()}
	h := e.handler(deskRoutes, cb)
	e.post(h, shareBody("firing:db-1:critical"))
	e.q.take()
	e.now = e.now.Add(16 * time.Minute)
	e.q.limited, e.q.limit = "+15550002222@sms.test", true
	if err := h.Desk().Escalate(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := cb.saves
	for range 60 {
		e.now = e.now.Add(time.Second)
		if err := h.Desk().Escalate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := cb.saves - before; n != 0 {
		t.Errorf("60 runs of Escalate with the step still refused and nothing changed: %d store writes", n)
	}
	calls := 0
	h.desk.q = &countingQueue{limitedQueue: e.q, n: &calls}
	for range 540 { // 10 minutes since the refusal: tried at 30 s, 90 s, 210 s and 450 s
		e.now = e.now.Add(time.Second)
		if err := h.Desk().Escalate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Errorf("a refused page in the 9 minutes after its first minute: tried %d times, want 3 (at 90 s, 210 s, 450 s)", calls)
	}
}

// postN posts n to h.
func postN(t *testing.T, h *Handler, n Notification) {
	t.Helper()
	b, _ := json.Marshal(n)
	if w := post(h, "POST", "Bearer "+testToken, string(b)); w.Code != 200 {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
}

// hl is a HighLatency alert of instance, with extra labels.
func hl(status, instance string, extra map[string]string) Alert {
	l := map[string]string{"alertname": "HighLatency", "instance": instance}
	maps.Copy(l, extra)
	return Alert{Status: status, Fingerprint: "fp-" + instance, Labels: l}
}

// A route whose match has an empty value (team: "", the label missing):
// its silence keeps that matcher (Alertmanager's team="" matches a missing
// label), so it does not silence another team's alerts of the group.
func TestSilenceKeepsEmptyRouteMatch(t *testing.T) {
	e := newShareEnv(t)
	routes := []Route{
		{Match: map[string]string{"team": "a"}, To: []string{"alice@example.com"}},
		{Match: map[string]string{"team": ""}, To: []string{"bob@example.com"}},
	}
	h := e.handler(routes, nil)
	n := Notification{Version: "4", GroupKey: `{}:{alertname="HighLatency"}`, Receiver: "xmppgw", Status: Firing,
		GroupLabels: map[string]string{"alertname": "HighLatency"},
		Alerts:      []Alert{hl(Firing, "db-1", nil), hl(Firing, "db-2", nil), hl(Firing, "db-3", map[string]string{"team": "a"})}}
	postN(t, h, n)
	var code string
	for _, x := range e.q.take() {
		if x.to == "bob@example.com" {
			code = codeRE.FindStringSubmatch(x.text)[1]
		}
	}
	if _, err := h.Desk().Answer(context.Background(), "bob@example.com", "silence "+code+" 2h", "", "ev-1", false); err != nil {
		t.Fatal(err)
	}
	sil := h.desk.silencer.(*labelSilencer)
	want := map[string]string{"alertname": "HighLatency", "team": ""}
	if len(sil.labels) != 1 || !maps.Equal(sil.labels[0], want) {
		t.Errorf("bob's silence (route match team=\"\"): %v, want %v", sil.labels, want)
	}
}

// Routes: critical to oncall, everything else to ops (the catch-all, no
// match labels). A silence of ops's share matches the labels its alerts
// have in common, so it leaves oncall's critical share alone (README: "so
// not for a share of the group another route took").
func TestCatchAllSilenceSparesOtherShare(t *testing.T) {
	e := newShareEnv(t)
	h := e.handler(deskRoutes, nil)
	e.post(h, shareBody("firing:db-1:critical", "firing:db-2:warning"))
	var code string
	for _, x := range e.q.take() {
		if x.to == "ops@example.com" {
			code = codeRE.FindStringSubmatch(x.text)[1]
		}
	}
	if _, err := h.Desk().Answer(context.Background(), "ops@example.com", "silence "+code+" 2h", "", "", false); err != nil {
		t.Fatal(err)
	}
	sil := h.desk.silencer.(*labelSilencer)
	if len(sil.labels) != 1 {
		t.Fatalf("silences: %v", sil.labels)
	}
	critical := map[string]string{"alertname": "HighLatency", "severity": "critical", "instance": "db-1"}
	matches := true
	for k, v := range sil.labels[0] {
		if critical[k] != v {
			matches = false
		}
	}
	if matches {
		t.Errorf("ops's silence %v of its warning share also silences oncall's critical alert %v", sil.labels[0], critical)
	}
}

// A resolution refused over the cap leaves a resolved group open until
// everyone is told: it is no longer one to answer. A bare ack takes the
// one firing alert, status lists that one alone, and an ack of the
// resolved one's code says it has resolved.
func TestResolvedPendingGroupNotAnswered(t *testing.T) {
	e := newShareEnv(t)
	h := e.handler(deskRoutes, nil)
	e.post(h, shareBody("firing:db-1:critical"))
	resolvedCode := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	e.q.limited, e.q.limit = "+15551234567@sms.test", true
	if w := post(h, "POST", "Bearer "+testToken, shareBody("resolved:db-1:critical")); w.Code != 429 {
		t.Fatalf("resolution under the cap: %d", w.Code)
	}
	n := Notification{Version: "4", GroupKey: `{}:{alertname="DiskFull"}`, Receiver: "xmppgw", Status: Firing,
		GroupLabels: map[string]string{"alertname": "DiskFull"},
		Alerts:      []Alert{{Status: Firing, Fingerprint: "fp-disk", Labels: map[string]string{"alertname": "DiskFull", "severity": "critical"}}}}
	b, _ := json.Marshal(n)
	post(h, "POST", "Bearer "+testToken, string(b))
	e.q.take()
	if _, err := h.Desk().Answer(context.Background(), "oncall@example.com", "ack", "", "", false); err != nil {
		t.Fatal(err)
	}
	var acked bool
	for _, x := range e.q.take() {
		if x.to == "oncall@example.com" && strings.HasPrefix(x.text, "Which one?") {
			t.Errorf("a bare ack with one firing alert and one resolved: %q", x.text)
		}
		acked = acked || x.to == "oncall@example.com" && strings.Contains(x.text, " acknowledged by oncall@example.com")
	}
	if !acked {
		t.Errorf("a bare ack with one firing alert and one resolved: the firing one not acknowledged")
	}
	ask := func(text string) string {
		t.Helper()
		if _, err := h.Desk().Answer(context.Background(), "oncall@example.com", text, "", "", false); err != nil {
			t.Fatal(err)
		}
		got := e.q.take()
		if len(got) != 1 {
			t.Fatalf("%q answered with %+v", text, got)
		}
		return got[0].text
	}
	if got := ask("status"); strings.Contains(got, "#"+resolvedCode) || !strings.HasPrefix(got, "Open alerts:\n#") {
		t.Errorf("status with one firing alert and one resolved (#%s): %q", resolvedCode, got)
	}
	if got := ask("ack " + resolvedCode); !strings.HasPrefix(got, "#"+resolvedCode+" has resolved.") {
		t.Errorf("an ack of the resolved #%s: %q", resolvedCode, got)
	}
}

// A silence is recorded with its group before Alertmanager is asked: a
// crash between the two (here: the desk never gets to ask) leaves it for
// Escalate after the restart, which makes it (Alertmanager finds it again
// by its mark, if it was made) and tells everyone, once.
func TestSilenceCompletedAfterCrash(t *testing.T) {
	e := newDeskEnv(t)
	ctx := context.Background()
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	dest, _ := e.q.Resolve("+15551234567")
	a, _, _ := parseAnswer("silence " + code + " 2h")
	e.h.desk.mu.Lock()
	_, ps, err := e.h.desk.answer(ctx, dest, a, nil, "", "sms\x00answer:SM9", false)
	e.h.desk.mu.Unlock()
	if err != nil || ps == nil {
		t.Fatalf("silence answer: %v %v", ps, err)
	}
	e.expect("before Alertmanager is asked")
	// The gateway restarts.
	h2, err := New(Options{Token: testToken, Routes: deskRoutes, Queue: e.q, Book: e.h.desk.book, Silencer: e,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h2.desk.now = func() time.Time { return e.now }
	for range 2 {
		if err := h2.Desk().Escalate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	told := "#" + code + " silenced for 2h0m0s by +15551234567 (Alertmanager silence s-1)."
	e.expect("after the restart", "oncall@example.com: "+told, "+15551234567@sms.test: "+told, "-1001234@tg.test: "+told)
	if len(e.silences) != 1 || !strings.Contains(e.silences[0], `"instance":"db-1"`) || !strings.Contains(e.silences[0], " 2h0m0s +15551234567 ") {
		t.Errorf("silences: %q", e.silences)
	}
	// The same answer delivered again: acted on already.
	if handled, err := h2.Desk().Answer(ctx, "+15551234567", "silence "+code+" 2h", "", "sms\x00answer:SM9", false); !handled || err != nil {
		t.Fatal(handled, err)
	}
	e.expect("the answer again")
	if len(e.silences) != 1 {
		t.Errorf("silences after the answer again: %q", e.silences)
	}
}

// A silence recorded pending, then a restart without alertmanager_url
// (silences off): Escalate, or the answer delivered again, drops it and
// tells who asked that silences are off (it called a nil Silencer).
func TestPendingSilenceDroppedWithoutSilencer(t *testing.T) {
	for _, retry := range []string{"Escalate", "Answer"} {
		t.Run(retry, func(t *testing.T) {
			e := newDeskEnv(t)
			ctx := context.Background()
			e.notify("firing:db-1")
			code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
			dest, _ := e.q.Resolve("+15551234567")
			a, _, _ := parseAnswer("silence " + code + " 2h")
			e.h.desk.mu.Lock()
			_, ps, err := e.h.desk.answer(ctx, dest, a, nil, "", "sms\x00answer:SM9", false)
			e.h.desk.mu.Unlock()
			if err != nil || ps == nil {
				t.Fatalf("silence answer: %v %v", ps, err)
			}
			h2, err := New(Options{Token: testToken, Routes: deskRoutes, Queue: e.q, Book: e.h.desk.book,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			h2.desk.now = func() time.Time { return e.now }
			if retry == "Escalate" {
				err = h2.Desk().Escalate(ctx)
			} else {
				_, err = h2.Desk().Answer(ctx, "+15551234567", "silence "+code+" 2h", "", "sms\x00answer:SM9", false)
			}
			if err != nil {
				t.Fatal(err)
			}
			e.expect("dropped", "+15551234567@sms.test: #"+code+" is not silenced: silences are off: the gateway has no alerts.alertmanager_url")
			gs, _ := e.h.desk.book.Groups(ctx)
			for _, an := range gs[0].Answers {
				if an.Silence != nil {
					t.Errorf("still pending: %+v", an)
				}
			}
			if err := h2.Desk().Escalate(ctx); err != nil {
				t.Fatal(err)
			}
			e.expect("after")
		})
	}
}

// unreachableSilencer fails as an Alertmanager dropping connections does,
// counting its calls.
type unreachableSilencer struct{ calls int }

func (u *unreachableSilencer) Silence(context.Context, map[string]string, time.Duration, string, string, string) (string, error) {
	u.calls++
	return "", &unreachable{errors.New("connection reset")}
}

// Pending silences left by a crash are tried one a run of Escalate: with
// Alertmanager dropping connections (each try taking its timeout), a run
// and its pages wait for one try, not one for each silence.
func TestPendingSilencesOneARun(t *testing.T) {
	e := newDeskEnv(t)
	ctx := context.Background()
	e.notify("firing:db-1")
	code := codeRE.FindStringSubmatch(e.q.take()[0].text)[1]
	dest, _ := e.q.Resolve("+15551234567")
	for _, text := range []string{"silence " + code + " 2h", "silence " + code + " 1d", "silence " + code + " 30m"} {
		a, _, _ := parseAnswer(text)
		e.h.desk.mu.Lock()
		_, ps, err := e.h.desk.answer(ctx, dest, a, nil, "", "sms\x00answer:"+text, false)
		e.h.desk.mu.Unlock()
		if err != nil || ps == nil {
			t.Fatalf("silence answer: %v %v", ps, err)
		}
	}
	am := &unreachableSilencer{}
	h2, err := New(Options{Token: testToken, Routes: deskRoutes, Queue: e.q, Book: e.h.desk.book, Silencer: am,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h2.desk.now = func() time.Time { return e.now }
	for run := 1; run <= 3; run++ {
		if err := h2.Desk().Escalate(ctx); err != nil {
			t.Fatal(err)
		}
		if am.calls != run {
			t.Fatalf("after %d run(s) of Escalate: %d tries of Alertmanager", run, am.calls)
		}
	}
}
