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

// The presences kept are bounded, per account and in all: an account past
// its share forgets its own, and one account's churn does not push out
// another's.
func TestContactPresencesBounded(t *testing.T) {
	var c contactPresences
	c.set("+15550000001", "alice-contact", shown{"away", "lunch"})
	for i := range 10 * maxPresences {
		c.set("+15550000002", transports.Addr(strconv.Itoa(i)), shown{})
	}
	if n := len(c.m["+15550000002"]); n != maxAccountPresences || c.total != maxAccountPresences+1 {
		t.Errorf("the churning account keeps %d (%d in all), want %d (%d)", n, c.total, maxAccountPresences, maxAccountPresences+1)
	}
	if s := c.get("+15550000001", "alice-contact"); s != (shown{"away", "lunch"}) {
		t.Errorf("another account's contact after the churn: %+v", s)
	}
	// Many accounts, each within its share: the whole is bounded, the
	// account holding most giving way.
	for a := range 9 {
		for i := range maxAccountPresences {
			c.set(transports.Addr("+1555100000"+strconv.Itoa(a)), transports.Addr(strconv.Itoa(i)), shown{})
		}
	}
	if c.total != maxPresences {
		t.Errorf("%d kept in all, want %d", c.total, maxPresences)
	}
	n := 0
	for _, of := range c.m {
		n += len(of)
	}
	if n != c.total {
		t.Errorf("counted %d, kept %d", c.total, n)
	}
	if s := c.get("+15550000001", "alice-contact"); s != (shown{"away", "lunch"}) {
		t.Errorf("the smallest account's contact: %+v", s)
	}
	if s := c.get("+15550000003", "0"); s != (shown{"xa", unknownStatus}) {
		t.Errorf("an account never reported: %+v", s)
	}
}
