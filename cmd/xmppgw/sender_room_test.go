package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"xmppgw/component"
	"xmppgw/component/contacts"
	"xmppgw/configs"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/mapping"
)

// An SMS from the sender id OnCall, with a team inbox named oncall: it
// arrives from the contact #oncall@sms.example.com, not from the room
// oncall@sms.example.com (the JID of OnCall kept as it was, case-folded),
// and the user's reply to that JID goes to the contact, not the room. The
// SMS transport and the core as run wires them.
func TestSenderIDIsNoInboxRoom(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gw.db")
	cfg, err := configs.Load(runConfig(t, db, `      inboxes:
        - number: "+15550009999"
          room: oncall
          members: [bob@example.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	g, err := newGateway(cfg, 0, store, log, mux,
		component.NewMetrics(prometheus.NewRegistry()), contacts.New(nil, store.Contacts(), log))
	if err != nil {
		t.Fatal(err)
	}

	const sid = "SM0123456789abcdef0123456789abcdef"
	form := twiliofake.New("AC123", "tok3n").InboundForm(sid, "OnCall", "+15550001111", "Your on-call shift starts at 8")
	req := httptest.NewRequest(http.MethodPost, "/hooks/sms/inbound", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliofake.Sign("tok3n", "https://gw.example.com/hooks/sms/inbound", form))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("webhook: %d %s", w.Code, w.Body)
	}
	pending, err := store.ToXMPP().Pending(ctx, "sms", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, p := range pending {
		got.Write(p.Stanza)
	}
	const want = `<message type="chat" id="` + sid + `" from="#oncall@sms.example.com" to="alice@example.com">` +
		`<body>Your on-call shift starts at 8</body>` +
		`<origin-id xmlns="urn:xmpp:sid:0" id="` + sid + `"></origin-id></message>`
	if got.String() != want {
		t.Errorf("queued for XMPP:\n%s\nwant\n%s", got.String(), want)
	}

	// The reply is a message to the contact, queued for Twilio to #oncall
	// (sent as "oncall", which Twilio refuses: sender ids take no texts).
	if out := handleStanza(t, g, `<message type="chat" id="r1" from="alice@example.com/pc" to="#oncall@sms.example.com"><body>STOP</body></message>`); out != "" {
		t.Errorf("the reply was answered %s", out)
	}
	jobs, err := store.Jobs().Pending(ctx, "sms", 0, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Remote != "#oncall" || jobs[0].Body != "STOP" {
		t.Errorf("queued for SMS: %+v, %v; want STOP to #oncall", jobs, err)
	}
}

// handleStanza runs g.HandleXMPP on the stanza in, as the component's
// stream reads it, and returns what it wrote.
func handleStanza(t *testing.T, g *component.Gateway, in string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(`<stream xmlns="jabber:component:accept">` + in + `</stream>`))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	start := tok.(xml.StartElement)
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	if err := g.HandleXMPP(stanzaPipe{d, enc}, &start); err != nil {
		t.Fatalf("HandleXMPP: %v", err)
	}
	enc.Flush()
	return out.String()
}

// stanzaPipe reads one stanza and records what a handler writes.
type stanzaPipe struct {
	xml.TokenReader
	enc *xml.Encoder
}

func (p stanzaPipe) EncodeToken(t xml.Token) error { return p.enc.EncodeToken(t) }
func (p stanzaPipe) Encode(v any) error            { return p.enc.Encode(v) }
func (p stanzaPipe) EncodeElement(v any, start xml.StartElement) error {
	return p.enc.EncodeElement(v, start)
}
