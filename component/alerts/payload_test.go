package alerts

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	am, err := os.ReadFile("testdata/alertmanager.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(am)
	if err != nil {
		t.Fatal(err)
	}
	n := r.Alerts
	if n == nil || r.Text != "" || len(n.Alerts) != 3 || n.GroupKey == "" || n.Receiver != "xmppgw" ||
		n.Alerts[2].Status != Resolved || n.Alerts[0].Fingerprint != "1a30ba71cca2921f" ||
		n.Alerts[0].Annotations["summary"] != "p99 latency 812ms" || n.GroupLabels["alertname"] != "HighLatency" {
		t.Errorf("parsed %+v", n)
	}

	tests := []struct {
		body string
		want string // the error, or "" and then a check of the request
		ok   func(Request) bool
	}{
		0: {body: `{"to": ["ops@example.com"], "text": "disk full"}`,
			ok: func(r Request) bool { return r.Alerts == nil && r.Text == "disk full" && len(r.To) == 1 }},
		1: {body: `{"text": "disk full", "id": "cron-42"}`,
			ok: func(r Request) bool { return r.Text == "disk full" && r.ID == "cron-42" && r.To == nil }},
		2: {body: `{"status": "resolved", "alerts": [{"labels": {"a": "b"}}], "extra": {"new": "field"}}`,
			ok: func(r Request) bool { return r.Alerts.Alerts[0].Status == Resolved }}, // status from the payload
		3:  {body: ``, want: "the body is empty; send a JSON object"},
		4:  {body: `{"text": "x"`, want: "the JSON is cut short"},
		5:  {body: `{"text": x}`, want: "malformed JSON at byte 10: invalid character 'x' looking for beginning of value"},
		6:  {body: `["text"]`, want: "the body must be a JSON object, not array"},
		7:  {body: `{"text": 5}`, want: `"text" must not be number`},
		8:  {body: `{"alerts": [{"labels": {"a": 1}}]}`, want: `"alerts.labels" must not be number`},
		9:  {body: `{"text": "x"} {}`, want: "unexpected data after the JSON object"},
		10: {body: `{}`, want: `the body needs "alerts" (Alertmanager's webhook payload) or "text"`},
		11: {body: `{"txt": "x", "to": ["a@b"]}`, want: `the body needs "alerts" (Alertmanager's webhook payload) or "text"`},
		12: {body: `{"text": "x", "alerts": []}`, want: `give either "alerts" (Alertmanager's payload) or "text", not both`},
		13: {body: `{"text": " \n"}`, want: `"text" is empty`},
		14: {body: `{"alerts": []}`, want: `"alerts" is empty`},
		15: {body: `{"alerts": null}`, want: `the body needs "alerts" (Alertmanager's webhook payload) or "text"`},
		16: {body: `{"alerts": [{"status": "pending"}]}`, want: `alerts[0].status is "pending"; want "firing" or "resolved"`},
		17: {body: `{"alerts": [{}]}`, want: `alerts[0].status is ""; want "firing" or "resolved"`},
		18: {body: `{"text": "x", "to": ["a@b", " "]}`, want: `to[1] is empty`},
		19: {body: `{"text": "x", "to": [` + strings.Repeat(`"a@b",`, 100) + `"a@b"]}`, want: `"to" lists 101 destinations; at most 100 are allowed`},
		20: {body: `{"text": "x", "id": "` + strings.Repeat("i", 201) + `"}`, want: `"id" is longer than 200 bytes`},
		21: {body: `{"alerts": [{"status": "firing"}], "truncatedAlerts": -1}`, want: `"truncatedAlerts" is negative`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r, err := Parse([]byte(tt.body))
			switch {
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("got error %v, want %q", err, tt.want)
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want == "" && !tt.ok(r):
				t.Errorf("parsed %+v", r)
			}
		})
	}
}

// FuzzAlertPayload checks that Parse never panics, and that what it accepts
// renders within the limits: one SMS, MaxText bytes, valid UTF-8.
func FuzzAlertPayload(f *testing.F) {
	am, err := os.ReadFile("testdata/alertmanager.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(am)
	f.Add([]byte(`{"to": ["ops@example.com", "+15551234567"], "text": "disk full on db1", "id": "x"}`))
	f.Add([]byte(`{"status": "resolved", "truncatedAlerts": 3, "alerts": [{"labels": {"alertname": "Долго", "instance": "{[€]}"}, "annotations": {"description": "a\u2028b\u0000c"}}]}`))
	f.Add([]byte(`{"alerts": [{"status": "firing", "labels": {}}, {"status": "resolved", "labels": null}], "groupLabels": {"x": "` + strings.Repeat("😀", 100) + `"}}`))
	f.Add([]byte(`{"text": "` + strings.Repeat("ж", 300) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		var text Text
		if r.Alerts != nil {
			if len(r.Alerts.Alerts) == 0 {
				t.Fatal("accepted without alerts")
			}
			text = Render(r.Alerts, r.Alerts.Alerts)
		} else {
			text = PlainText(r.Text)
		}
		sms, full := text.SMS(), text.Full()
		if !OneSMS(sms) {
			t.Errorf("SMS too long: %q", sms)
		}
		if len(full) > MaxText {
			t.Errorf("full text of %d bytes", len(full))
		}
		if !utf8.ValidString(sms) || !utf8.ValidString(full) {
			t.Errorf("invalid UTF-8: %q, %q", sms, full)
		}
	})
}
