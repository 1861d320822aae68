package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// An IQ from an address the gateway cannot parse is answered
// jid-malformed and counted in xmppgw_stanza_errors_total, as every stanza
// answered with an error is.
func TestUnaddressableIQCountedAsRefusal(t *testing.T) {
	g, _, _ := testGateway(t)
	g.o.Metrics = NewMetrics(prometheus.NewRegistry())
	got := handle(t, g, `<iq type="get" id="q1" from="a@b@c" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	want := `<iq type="error" id="q1" from="sms.example.test" to="a@b@c"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></jid-malformed><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">invalid sender address</text></error></iq>`
	if got != want {
		t.Errorf("answered\n%s\nwant\n%s", got, want)
	}
	if n := counterValue(t, g.o.Metrics.Refusals.WithLabelValues("sms", "jid-malformed")); n != 1 || g.Stats.Refused.Load() != 1 {
		t.Errorf(`xmppgw_stanza_errors_total{condition="jid-malformed"} = %v, Stats.Refused = %d; want 1 and 1`, n, g.Stats.Refused.Load())
	}
}

// XML that is not well-formed in the part of a stanza over the size limit
// ends the session as any other is: counted in
// xmppgw_errors_total{kind="malformed"} and logged.
func TestMalformedPastSizeLimitCounted(t *testing.T) {
	g, _, _ := testGateway(t)
	g.o.MaxStanza = 64
	g.o.Metrics = NewMetrics(prometheus.NewRegistry())
	var logs bytes.Buffer
	g.log = slog.New(slog.NewTextHandler(&logs, nil))
	in := `<message type="chat" id="m1" from="alice@example.test/p" to="+15550002222@sms.example.test"><body>` +
		strings.Repeat("x", 100) + `</bodx></message>`
	d := xml.NewDecoder(strings.NewReader(in))
	tok, _ := d.Token()
	start := tok.(xml.StartElement)
	var out bytes.Buffer
	if err := g.HandleXMPP(pipe{d, xml.NewEncoder(&out)}, &start); err == nil {
		t.Fatal("a stanza that is not well-formed did not end the session")
	}
	if n := counterValue(t, g.o.Metrics.Errors.WithLabelValues("sms", "malformed")); n != 1 || g.Stats.Malformed.Load() != 1 {
		t.Errorf(`xmppgw_errors_total{kind="malformed"} = %v, Stats.Malformed = %d; want 1 and 1`, n, g.Stats.Malformed.Load())
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="malformed XML from the server; reconnecting"`) {
		t.Errorf("log\n%s\nlacks the malformed XML error", logs.String())
	}
}

// Answers not written because the session ended for good (shutdown) are
// counted in xmppgw_answers_unwritten_total.
func TestUnwrittenAnswersCounted(t *testing.T) {
	g, _, _ := testGateway(t)
	g.o.Metrics = NewMetrics(prometheus.NewRegistry())
	g.in.running.Store(true)
	go g.intakeLoop(context.Background())
	release := make(chan struct{})
	err := g.Later(jid.MustParse("alice@example.test/pc"), discard{}, func(_ context.Context, w router.Writer) {
		<-release
		w.Encode(message{Type: "chat", ID: "c1", From: "sms.example.test", To: "alice@example.test/pc", Body: "one"})
		w.Encode(message{Type: "chat", ID: "c2", From: "sms.example.test", To: "alice@example.test/pc", Body: "two"})
	})
	if err != nil {
		t.Fatal(err)
	}
	g.stopIntake()
	<-g.in.stopped
	close(release)
	g.bg.Wait()
	if n := counterValue(t, g.o.Metrics.Unwritten.WithLabelValues("sms")); n != 2 || g.Stats.Unwritten.Load() != 2 {
		t.Errorf(`xmppgw_answers_unwritten_total = %v, Stats.Unwritten = %d; want 2 and 2`, n, g.Stats.Unwritten.Load())
	}
}

// counterValue returns c's value.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
