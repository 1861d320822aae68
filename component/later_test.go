package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// slowLogin is a transport users sign in to (like telegram-user) whose
// network answers a sign-in step only when gate is closed: a slow or
// flood-waited Telegram.
type slowLogin struct {
	*transporttest.Transport
	gate chan struct{}
}

func (s *slowLogin) BeginLogin(context.Context, string) transports.Prompt {
	return transports.Prompt{Field: "phone", Label: "Phone"}
}
func (s *slowLogin) LoginAnswer(ctx context.Context, _, _, _ string) (*transports.Prompt, string, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
	}
	return &transports.Prompt{Field: "code", Label: "Code"}, "", nil
}
func (s *slowLogin) Logout(context.Context, string) error { return transports.ErrNotLoggedIn }

func slowLoginGateway(t testing.TB) (*Gateway, *slowLogin) {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr := &slowLogin{Transport: &transporttest.Transport{TransportName: "tg"}, gate: make(chan struct{})}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	return g, tr
}

const loginAnswer = `<iq type="set" id="ALICE" from="alice@example.test/pc" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login" sessionid="s1"><x xmlns="jabber:x:data" type="submit"><field var="phone"><value>+15550001111</value></field></x></command></iq>`

// One user's slow step (here a sign-in answer waiting on the network, up
// to 60 s) holds back only that user's answers: bob's registration form,
// which needs nothing from the network, is written while alice's step
// waits.
func TestLaterOrderIsPerUser(t *testing.T) {
	g, tr := slowLoginGateway(t)
	read := sessionWritten(t, g)
	startIntake(t, g)
	defer close(tr.gate)
	handled := make(chan int, 2)
	readLoop(t, g, []string{
		loginAnswer,
		`<iq type="get" id="BOB" from="bob@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`,
	}, handled)
	<-handled
	<-handled
	eventually(t, "bob's registration form, while alice's step waits", func() bool { return strings.Contains(read(), `id="BOB"`) })
	if strings.Contains(read(), `id="ALICE"`) {
		t.Error("alice's step was answered before its network answered")
	}
}

// A user's steps in flight are bounded: past laterPerUser, the rest are
// refused at once with wait/resource-constraint, and the read loop goes
// on.
func TestLaterBoundPerUser(t *testing.T) {
	g, tr := slowLoginGateway(t)
	read := sessionWritten(t, g)
	startIntake(t, g)
	const n = laterPerUser + 8
	stanzas := make([]string, n)
	for i := range stanzas {
		stanzas[i] = loginAnswer
	}
	const refusal = `<iq type="error" id="ALICE" from="tg.example.test" to="alice@example.test/pc"><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">too many of your requests are in progress; try again shortly</text></error></iq>`
	if out := feed(t, g, stanzas); out != strings.Repeat(refusal, n-laterPerUser) {
		t.Errorf("answered on the read loop:\n%s\nwant %d refusals", out, n-laterPerUser)
	}
	if held := laterSteps(g); held != laterPerUser {
		t.Errorf("%d of alice's steps in flight, want %d", held, laterPerUser)
	}
	close(tr.gate)
	eventually(t, "the steps' answers", func() bool { return strings.Count(read(), `<iq type="result" id="ALICE"`) == laterPerUser })
	g.laterMu.Lock()
	left := len(g.later) + g.laterN
	g.laterMu.Unlock()
	if left != 0 {
		t.Errorf("Later still counts %d after every step ended", left)
	}
}

// slowRooms is slowLogin whose groups are rooms of the user's own account
// (transports.MemberRooms, like telegram-user).
type slowRooms struct{ *slowLogin }

func (slowRooms) IsRoom(a transports.Addr) bool { return strings.HasPrefix(string(a), "+1555000333") }
func (slowRooms) RoomHistory() int              { return 20 }
func (slowRooms) Member(context.Context, string, transports.Addr) (string, bool, error) {
	return "", false, nil
}

// A presence to a room of a user's own account from someone who may not
// use the gateway is refused on the read loop: it takes no step, and does
// not wait behind anyone's.
func TestLaterNotForStrangers(t *testing.T) {
	g0, tr := slowLoginGateway(t)
	g := New(Options{
		Transport: slowRooms{tr},
		Identity:  g0.o.Identity,
		Store:     g0.o.Store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	sessionWritten(t, g)
	startIntake(t, g)
	defer close(tr.gate)
	const n = 100
	stanzas := []string{loginAnswer}
	for i := range n {
		stanzas = append(stanzas, `<presence id="x" from="mallory@evil.test/r`+strconv.Itoa(i)+`" to="+15550003333@tg.example.test/m"><x xmlns="http://jabber.org/protocol/muc"/></presence>`)
	}
	if out := feed(t, g, stanzas); strings.Count(out, `<forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">`) != n {
		t.Errorf("answered on the read loop:\n%s\nwant %d refusals", out, n)
	}
	if held := laterSteps(g); held != 1 {
		t.Errorf("%d steps in flight, want alice's one", held)
	}
}

// feed has g handle stanzas one after the other, as the session's read
// loop does, and returns what was written on the read loop.
func feed(t *testing.T, g *Gateway, stanzas []string) string {
	t.Helper()
	var out bytes.Buffer
	for _, in := range stanzas {
		d := xml.NewDecoder(strings.NewReader(in))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		start := tok.(xml.StartElement)
		enc := xml.NewEncoder(&out)
		if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
			t.Fatalf("HandleXMPP: %v", err)
		}
		enc.Flush()
	}
	return out.String()
}

// laterSteps is how many of g's Later steps are in flight, as Later
// counts them (synchronously, so no goroutine needs to have run yet).
func laterSteps(g *Gateway) int {
	g.laterMu.Lock()
	defer g.laterMu.Unlock()
	return g.laterN
}
