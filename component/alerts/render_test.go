package alerts

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// alert returns a HighLatency alert of api instance inst.
func alert(status, inst, severity, summary string) Alert {
	a := Alert{Status: status, Labels: map[string]string{"alertname": "HighLatency", "job": "api"},
		Annotations: map[string]string{}}
	if inst != "" {
		a.Labels["instance"] = inst
	}
	if severity != "" {
		a.Labels["severity"] = severity
	}
	if summary != "" {
		a.Annotations["summary"] = summary
	}
	return a
}

var groupedByName = &Notification{Status: Firing, GroupLabels: map[string]string{"alertname": "HighLatency"}}

func TestRender(t *testing.T) {
	many := func(n int, summary string) []Alert {
		var as []Alert
		for i := range n {
			as = append(as, alert(Firing, fmt.Sprintf("api-%d:9090", i), "critical", summary))
		}
		return as
	}
	tests := []struct {
		n         *Notification
		alerts    []Alert
		full, sms string
	}{
		0: { // firing, one line each
			groupedByName, []Alert{alert(Firing, "api-1:9090", "critical", "p99 latency 812ms"), alert(Firing, "api-2:9090", "critical", "p99 latency 640ms")},
			"[FIRING:2] HighLatency (severity=critical)\n- api-1:9090: p99 latency 812ms\n- api-2:9090: p99 latency 640ms",
			"[FIRING:2] HighLatency (severity=critical)\n- api-1:9090: p99 latency 812ms\n- api-2:9090: p99 latency 640ms",
		},
		1: { // resolved only: the heading names them
			groupedByName, []Alert{alert(Resolved, "api-3:9090", "critical", "p99 latency 120ms")},
			"[RESOLVED:1] HighLatency (severity=critical)\n- api-3:9090: p99 latency 120ms",
			"[RESOLVED:1] HighLatency (severity=critical)\n- api-3:9090: p99 latency 120ms",
		},
		2: { // both: firing first, resolved under their own heading
			groupedByName, []Alert{alert(Resolved, "api-3:9090", "warning", "p99 latency 120ms"), alert(Firing, "api-1:9090", "warning", "p99 latency 812ms")},
			"[FIRING:1] HighLatency (severity=warning)\n- api-1:9090: p99 latency 812ms\n[RESOLVED:1]\n- api-3:9090: p99 latency 120ms",
			"[FIRING:1] HighLatency (severity=warning)\n- api-1:9090: p99 latency 812ms\n[RESOLVED:1]\n- api-3:9090: p99 latency 120ms",
		},
		3: { // severities differ: not in the heading; description when no summary, on one line
			groupedByName, []Alert{alert(Firing, "api-1:9090", "critical", ""), alert(Firing, "", "warning", "")},
			"[FIRING:2] HighLatency\n- api-1:9090\n- job=api, severity=warning",
			"[FIRING:2] HighLatency\n- api-1:9090\n- job=api, severity=warning",
		},
		4: { // different alertnames: grouped by another label, named per alert
			&Notification{GroupLabels: map[string]string{"cluster": "eu-1"}}, []Alert{
				{Status: Firing, Labels: map[string]string{"alertname": "DiskFull", "cluster": "eu-1", "instance": "db1"}, Annotations: map[string]string{"description": "/var at\n\t97%"}},
				{Status: Firing, Labels: map[string]string{"alertname": "Down", "cluster": "eu-1"}},
			},
			"[FIRING:2] eu-1\n- DiskFull db1: /var at 97%\n- Down",
			"[FIRING:2] eu-1\n- DiskFull db1: /var at 97%\n- Down",
		},
		5: { // too long for one SMS: whole alerts dropped, counted
			groupedByName, append(many(9, "p99 latency above 500ms for 5m"), alert(Resolved, "db-1:9187", "critical", "replication lag back to normal")),
			"[FIRING:9] HighLatency (severity=critical)\n" +
				"- api-0:9090: p99 latency above 500ms for 5m\n- api-1:9090: p99 latency above 500ms for 5m\n- api-2:9090: p99 latency above 500ms for 5m\n" +
				"- api-3:9090: p99 latency above 500ms for 5m\n- api-4:9090: p99 latency above 500ms for 5m\n- api-5:9090: p99 latency above 500ms for 5m\n" +
				"- api-6:9090: p99 latency above 500ms for 5m\n- api-7:9090: p99 latency above 500ms for 5m\n- api-8:9090: p99 latency above 500ms for 5m\n" +
				"[RESOLVED:1]\n- db-1:9187: replication lag back to normal",
			"[FIRING:9] HighLatency (severity=critical)\n- api-0:9090: p99 latency above 500ms for 5m\n- api-1:9090: p99 latency above 500ms for 5m\n... +8 more",
		},
		6: { // one long alert: its line is cut
			groupedByName, many(1, strings.Repeat("very slow ", 20)),
			"[FIRING:1] HighLatency (severity=critical)\n- api-0:9090: " + strings.TrimSpace(strings.Repeat("very slow ", 20)),
			"[FIRING:1] HighLatency (severity=critical)\n- api-0:9090: very slow very slow very slow very slow very slow very slow very slow very slow very slow very slo...",
		},
		7: { // UCS-2: 70 characters, and "…"
			groupedByName, many(3, "задержка p99 выше 500 мс"),
			"[FIRING:3] HighLatency (severity=critical)\n- api-0:9090: задержка p99 выше 500 мс\n- api-1:9090: задержка p99 выше 500 мс\n- api-2:9090: задержка p99 выше 500 мс",
			"[FIRING:3] HighLatency (severity=critical)\n- api-0:9090: заде… +2 more",
		},
		8: { // GSM-7's extension characters count twice
			groupedByName, many(2, strings.Repeat("{x}", 16)),
			"[FIRING:2] HighLatency (severity=critical)\n- api-0:9090: " + strings.Repeat("{x}", 16) + "\n- api-1:9090: " + strings.Repeat("{x}", 16),
			"[FIRING:2] HighLatency (severity=critical)\n- api-0:9090: " + strings.Repeat("{x}", 16) + "\n... +1 more",
		},
		9: { // alerts Alertmanager left out are counted
			&Notification{GroupLabels: map[string]string{"alertname": "HighLatency"}, TruncatedAlerts: 40}, many(1, "slow"),
			"[FIRING:1] HighLatency (severity=critical)\n- api-0:9090: slow\n+40 more",
			"[FIRING:1] HighLatency (severity=critical)\n- api-0:9090: slow\n+40 more",
		},
		10: { // a resolved heading is not left without its alerts
			groupedByName, append(many(2, "p99 latency above 500ms for 5m"), alert(Resolved, "db-1:9187", "critical", strings.Repeat("replication lag back to normal ", 3))),
			"[FIRING:2] HighLatency (severity=critical)\n- api-0:9090: p99 latency above 500ms for 5m\n- api-1:9090: p99 latency above 500ms for 5m\n[RESOLVED:1]\n- db-1:9187: " +
				strings.TrimSpace(strings.Repeat("replication lag back to normal ", 3)),
			"[FIRING:2] HighLatency (severity=critical)\n- api-0:9090: p99 latency above 500ms for 5m\n- api-1:9090: p99 latency above 500ms for 5m\n... +1 more",
		},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			text := Render(tt.n, tt.alerts)
			if got := text.Full(); got != tt.full {
				t.Errorf("full:\n%s\nwant\n%s", got, tt.full)
			}
			got := text.SMS()
			if got != tt.sms {
				t.Errorf("sms:\n%s\nwant\n%s", got, tt.sms)
			}
			if !OneSMS(got) {
				t.Errorf("sms does not fit one SMS: %q", got)
			}
		})
	}
}

func TestPlainTextSMS(t *testing.T) {
	tests := []struct{ in, want string }{
		0: {"disk full on db1\n", "disk full on db1"},
		1: {strings.Repeat("a", 160), strings.Repeat("a", 160)},
		2: {strings.Repeat("a", 161), strings.Repeat("a", 157) + "..."},
		3: {"line one\n" + strings.Repeat("b", 200), "line one\n" + strings.Repeat("b", 148) + "..."},
		4: {strings.Repeat("ж", 71), strings.Repeat("ж", 69) + "…"},
		5: {"€" + strings.Repeat("a", 158), "€" + strings.Repeat("a", 158)}, // € takes two septets
		6: {"€" + strings.Repeat("a", 159), "€" + strings.Repeat("a", 155) + "..."},
	}
	for i, tt := range tests {
		if got := PlainText(tt.in).SMS(); got != tt.want {
			t.Errorf("%d: got %q, want %q", i, got, tt.want)
		}
	}
}

func TestFullIsCapped(t *testing.T) {
	var as []Alert
	for i := range 1000 {
		as = append(as, alert(Firing, fmt.Sprintf("host-%04d:9100", i), "critical", strings.Repeat("x", 30)))
	}
	got := Render(groupedByName, as).Full()
	if len(got) > MaxText || !utf8.ValidString(got) {
		t.Fatalf("%d bytes", len(got))
	}
	if !strings.HasSuffix(got, "\n… +667 more") {
		t.Errorf("ends with %q", got[len(got)-40:])
	}
}

func TestOneSMS(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{strings.Repeat("a", 160), true},
		{strings.Repeat("a", 161), false},
		{strings.Repeat("é@£$_", 32), true},           // in the basic table
		{strings.Repeat("[", 80), true},               // extension: two septets each
		{strings.Repeat("[", 80) + "a", false},        //
		{strings.Repeat("`", 70), true},               // not GSM-7: UCS-2
		{strings.Repeat("`", 71), false},              //
		{strings.Repeat("😀", 35), true},               // two UTF-16 units each
		{strings.Repeat("😀", 35) + "a", false},        //
		{"tab\there" + strings.Repeat("a", 62), true}, // a tab is not GSM-7
		{"tab\there" + strings.Repeat("a", 63), false},
	}
	for i, tt := range tests {
		if got := OneSMS(tt.s); got != tt.want {
			t.Errorf("%d: OneSMS(%q) = %v", i, tt.s, got)
		}
	}
}
