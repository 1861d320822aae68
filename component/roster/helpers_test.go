package roster

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core/coretest"
	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// fakeCore is the gateway a module is built for in these tests, with a
// barrier the test sets.
type fakeCore struct {
	*coretest.Core
	barrier func(ctx context.Context) error
}

var domain = jid.MustParse("tg.example.test")

func (c *fakeCore) Barrier(ctx context.Context) error { return c.barrier(ctx) }

// newRoster returns the module built for a fake gateway "tg" whose store
// holds alice@example.test's link from the config, to +15550002222.
func newRoster(t *testing.T) (*Roster, *fakeCore) {
	t.Helper()
	return newRosterWith(t, nil)
}

// newRosterWith is newRoster with the transport wrapped by wrap (if not
// nil).
func newRosterWith(t *testing.T, wrap func(*transporttest.Linked) transports.Transport) (*Roster, *fakeCore) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"},
		Links: map[transports.Addr]string{"+15550002222": "alice@example.test"}}
	if err := store.Links().SyncStaticLinks(context.Background(), "tg", map[string]string{"+15550002222": "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	var tt transports.Transport = tr
	if wrap != nil {
		tt = wrap(tr)
	}
	c := &fakeCore{Core: coretest.New("tg.example.test", tt, store)}
	c.Ident = transports.Identity{Name: "Telegram"}
	return New(c).(*Roster), c
}

// toCore is what the stand-in for the core's message route writes.
const toCore = `<message id="core" from="" to=""></message>`

// handle routes the stanza in, read in the component stream's namespace,
// through the module's routes as the core does (a stanza without a from is
// the server's own), and returns what the module wrote back, or toCore for
// a message that went on to the core's route.
func handle(t *testing.T, r *Roster, in string) string {
	t.Helper()
	target := router.Contact
	if strings.Contains(in, `to="tg.example.test"`) {
		target = router.Gateway
	}
	s := routertest.Stanza(t, in, target)
	if s.From.String() == "" {
		s.From = domain
	}
	var w routertest.Writer
	core := router.Route{Kind: router.Message, Handler: router.HandlerFunc(func(_ context.Context, w router.Writer, _ *router.Stanza) error {
		w.Encode(stanza.Message{ID: "core"})
		return nil
	})}
	router.New(r.log, append(r.Routes(), core)...).Dispatch(context.Background(), &w, s)
	return w.String()
}

// pending returns the stanzas queued for XMPP, one a line, and takes them
// off the queue.
func pending(t *testing.T, store *mapping.Store) string {
	t.Helper()
	q, err := store.ToXMPP().Pending(context.Background(), "tg", 100)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range q {
		b.Write(s.Stanza)
		b.WriteString("\n")
	}
	if len(q) > 0 {
		store.ToXMPP().Written(context.Background(), "tg", q[len(q)-1].ID)
	}
	return b.String()
}

const grantRoster = `<message from="example.test" to="tg.example.test"><privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/><perm access="message" type="outgoing"/></privilege></message>`

// rosterIDs matches roster push ids; rosterID normalises their nonce and mark.
var rosterIDs = regexp.MustCompile(`id="(roster\.(?:add|remove)\.[A-Za-z0-9_-]+)\.[0-9a-f]{16}\.[0-9a-f]{24}"`)

func rosterID(s string) string { return rosterIDs.ReplaceAllString(s, `id="$1.N"`) }

// firstPushID returns the (first) roster push id in s.
func firstPushID(t *testing.T, s string) string {
	t.Helper()
	m := regexp.MustCompile(`id="(roster\.[^"]+)"`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no roster push in\n%s", s)
	}
	return m[1]
}
