package component

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// On a transport users sign in to, the answer to a probe (which the
// server sends for every roster contact when the user comes online) is the
// presence the network last reported for the user's account and the
// contact; before any report since the gateway started, "xa" with a status
// saying it is not known (nothing says the contact is online). A group,
// which has no presence, is available.
func TestProbeAnswersLastReportedPresence(t *testing.T) {
	ctx := context.Background()
	store, err := mapping.OpenSQLite(ctx, filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &memberRooms{signInFake{Transport: transporttest.Transport{TransportName: "tg", Accts: map[string]transports.Addr{
		"alice@example.test": "+15550000001", "bob@example.test": "+15550000002"}}}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "User id"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	probe := func(from, to string) string {
		return `<presence type="probe" from="` + from + `" to="` + to + `@tg.example.test"/>`
	}
	const (
		unknown = `<presence from="+15550004444@tg.example.test" to="alice@example.test"><show>xa</show><status>Status not known yet</status></presence>`
		away    = `<presence from="+15550004444@tg.example.test" to="alice@example.test"><show>xa</show><status>Last seen 2023-11-14 22:13 UTC</status></presence>`
		online  = `<presence from="+15550004444@tg.example.test" to="alice@example.test"></presence>`
	)
	steps := []struct {
		report  func() error // what the network reports first, if anything
		in, out string
	}{
		0: {nil, probe("alice@example.test", "+15550004444"), unknown},
		1: {func() error { return g.Presence(ctx, "+15550000001", "+15550004444", false, time.Unix(1700000000, 0)) },
			probe("alice@example.test", "+15550004444"), away},
		// Bob's account has not been told of the contact.
		2: {nil, probe("bob@example.test", "+15550004444"),
			`<presence from="+15550004444@tg.example.test" to="bob@example.test"><show>xa</show><status>Status not known yet</status></presence>`},
		3: {func() error { return g.Presence(ctx, "+15550000001", "+15550004444", true, time.Time{}) },
			probe("alice@example.test", "+15550004444"), online},
		4: {func() error { return g.Presence(ctx, "+15550000001", "+15550004444", false, time.Unix(1700000000, 0)) },
			`<presence type="subscribe" id="s1" from="alice@example.test/pc" to="+15550004444@tg.example.test"/>`,
			`<presence type="subscribed" id="s1" from="+15550004444@tg.example.test" to="alice@example.test"></presence>` + away},
		5: {nil, probe("alice@example.test", "+15550003333"), `<presence from="+15550003333@tg.example.test" to="alice@example.test"></presence>`},
	}
	for i, s := range steps {
		if s.report != nil {
			if err := s.report(); err != nil {
				t.Fatal(err)
			}
		}
		if got := handle(t, g, s.in); got != s.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, s.out)
		}
	}
}

// The presences kept are bounded: past maxPresences, one is forgotten
// (and answered as not known) for each new contact.
func TestContactPresencesBounded(t *testing.T) {
	var c contactPresences
	for i := range maxPresences + 10 {
		c.set("+15550000001", transports.Addr(strconv.Itoa(i)), shown{})
	}
	if n := len(c.m); n != maxPresences {
		t.Errorf("%d kept, want %d", n, maxPresences)
	}
	if s := c.get("+15550000002", "0"); s != (shown{"xa", unknownStatus}) {
		t.Errorf("another account's contact: %+v", s)
	}
}
