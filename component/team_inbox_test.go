package component

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// teamInbox is an SMS transport whose number +15550009999 is the team
// inbox oncall of alice and bob.
type teamInbox struct{ transporttest.Transport }

func (*teamInbox) Inboxes() []transports.Inbox {
	return []transports.Inbox{{Account: "+15550009999", Room: "oncall", Members: []string{"alice@example.test", "bob@example.test"}}}
}

// heldDesk takes alice's texts to the gateway as answers to an alert,
// each once hold is closed (a "silence K4 2h" waits up to 10 s on
// Alertmanager; here, until the test lets it go); nobody else's.
type heldDesk struct{ hold chan struct{} }

func (d heldDesk) Answer(_ context.Context, from, _, _, _ string, _ bool) (bool, error) {
	if from != "alice@example.test" {
		return false, nil
	}
	<-d.hold
	return true, nil
}

// runningTeamInbox runs the real Run of a gateway of the team inbox oncall
// (teamInbox) against a fake XEP-0114 server, logging to logs, with desk
// taking answers to alerts from XMPP.
func runningTeamInbox(t *testing.T, logs io.Writer, desk Answers) (*Gateway, *fakeServer, *teamInbox) {
	t.Helper()
	return runningTeamInboxOf(t, logs, desk, nil)
}

// runningTeamInboxOf is runningTeamInbox where users have numbers of
// their own, accts (user's bare JID -> number).
func runningTeamInboxOf(t *testing.T, logs io.Writer, desk Answers, accts map[string]transports.Addr) (*Gateway, *fakeServer, *teamInbox) {
	t.Helper()
	srv := startFakeServer(t, "sms.example.test")
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &teamInbox{Transport: transporttest.Transport{TransportName: "sms", Accts: accts}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "sms", Name: "SMS", Prompt: "Phone number"},
		Store:     store,
		Conn:      &conn.Conn{Server: srv.addr, Domain: jid.MustParse("sms.example.test"), Secret: []byte("s3cret"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	g.SetAnswers(desk, true)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ran })
	eventually(t, "connected", g.Connected)
	return g, srv, tr
}

// writtenTo is what the server got for to, in order, without the random
// ids the gateway gives its own stanzas.
func writtenTo(srv *fakeServer, to string) []string {
	var out []string
	for _, s := range srv.written() {
		if strings.Contains(s, ` to="`+to+`"`) {
			out = append(out, gatewayID.ReplaceAllString(s, ""))
		}
	}
	return out
}

// gatewayID is the id of a stanza the gateway makes (a presence, a
// subject).
var gatewayID = regexp.MustCompile(` id="[0-9a-f]{16}"`)

// joinInbox has full join oncall as nick, and waits until its subject is
// written.
func joinInbox(t *testing.T, srv *fakeServer, full, nick string) {
	t.Helper()
	srv.in <- `<presence from="` + full + `" to="oncall@sms.example.test/` + nick + `"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
	eventually(t, full+" joined", func() bool { return strings.Contains(strings.Join(writtenTo(srv, full), ""), "<subject>") })
}

// Stanzas of oncall, as the fake server records them.
const (
	inboxSelf    = `<presence from="oncall@sms.example.test/%s" to="%s"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="%[2]s"></item><status code="100"></status><status code="110"></status></x></presence>`
	inboxSubject = `<message type="groupchat" from="oncall@sms.example.test" to="%s"><subject>Team inbox +15550009999</subject></message>`
	inboxPeer    = `<presence from="oncall@sms.example.test/%s" to="%s"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>`
)
