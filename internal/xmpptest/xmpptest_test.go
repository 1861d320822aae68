//go:build integration

package xmpptest_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/xmpptest"
)

const (
	domain    = "example.test"
	component = "sms.example.test"
)

var testUsers = map[string]string{"alice": "pw-a", "bob": "pw-b", "carol": "pw-c"}

// start runs a Prosody with alice, bob, carol and one component.
func start(t *testing.T) *xmpptest.Prosody {
	t.Helper()
	return xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
		Domain:     domain,
		Components: map[string]string{component: "s3cret-s3cret-s3cret"},
		Users:      testUsers,
	})
}

// startServer runs the server kind with the same users and component.
func startServer(t *testing.T, kind string) xmpptest.Server {
	t.Helper()
	return xmpptest.StartServerT(t, kind, xmpptest.ServerConfig{
		Domain:     domain,
		Components: map[string]string{component: "s3cret-s3cret-s3cret"},
		Users:      testUsers,
	})
}

// eachServer runs test as a parallel subtest per server.
func eachServer(t *testing.T, test func(t *testing.T, srv xmpptest.Server)) {
	t.Parallel()
	for _, kind := range xmpptest.Servers {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			test(t, startServer(t, kind))
		})
	}
}

// ctx bounds a test's waits; the tests never assert on durations.
func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestChatBetweenUsers(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test/phone"), "pw-a")
		bob := xmpptest.DialT(t, p.C2S(), jid.MustParse("bob@example.test"), "pw-b")
		if got := alice.JID.String(); got != "alice@example.test/phone" {
			t.Errorf("alice bound %q, want the requested resource", got)
		}

		if err := alice.Send(c, "<message to='bob@example.test' type='chat' id='m1'><body>hi &amp; bye</body></message>"); err != nil {
			t.Fatal(err)
		}
		m, err := bob.NextMessage(c)
		if err != nil {
			t.Fatal(err)
		}
		if m.From != "alice@example.test/phone" || m.To != "bob@example.test" || m.Type != "chat" || m.ID != "m1" || m.Body != "hi & bye" {
			t.Errorf("bob got %+v", m)
		}
		if !strings.Contains(m.XML, "<body") || !strings.Contains(m.XML, "hi &amp; bye") {
			t.Errorf("XML = %s", m.XML)
		}
	})
}

func TestInitialPresenceIsEchoed(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		bob := xmpptest.DialT(t, p.C2S(), jid.MustParse("bob@example.test"), "pw-b")
		st, err := bob.Next(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.Name != "presence" || st.From != bob.JID.String() {
			t.Errorf("first stanza = %s, want bob's own presence", st)
		}
	})
}

func TestMessageToOfflineComponentBounces(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test"), "pw-a")
		if err := alice.Send(c, "<message to='+15551234567@sms.example.test' type='chat'><body>x</body></message>"); err != nil {
			t.Fatal(err)
		}
		m, err := alice.NextMessage(c)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "error" || m.From != "+15551234567@sms.example.test" {
			t.Fatalf("got %s, want an error from the component JID", m)
		}
		// Prosody 0.12: <error type='wait'><remote-server-timeout/>...
		// ejabberd routes an unknown domain to s2s, which xmpptest denies
		// (s2s_access): <error type='auth'><forbidden/>.
		want := map[string][2]string{
			xmpptest.ServerProsody:  {"wait", "remote-server-timeout"},
			xmpptest.ServerEjabberd: {"auth", "forbidden"},
		}[p.Kind()]
		if m.ErrorType != want[0] || m.ErrorCondition != want[1] {
			t.Errorf("error %s/%s, want %s/%s: %s", m.ErrorType, m.ErrorCondition, want[0], want[1], m)
		}
	})
}

func TestUnhandledIQIsAnswered(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test"), "pw-a")
		bob := xmpptest.DialT(t, p.C2S(), jid.MustParse("bob@example.test/desk"), "pw-b")
		if err := alice.Send(c, "<iq type='get' id='v1' to='bob@example.test/desk'><query xmlns='jabber:iq:version'/></iq>"); err != nil {
			t.Fatal(err)
		}
		for {
			st, err := alice.Next(c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Name != "iq" {
				continue
			}
			if st.ID != "v1" || st.Type != "error" || st.ErrorCondition != "service-unavailable" || st.From != "bob@example.test/desk" {
				t.Errorf("answer = %s", st)
			}
			break
		}
		// bob still saw the request.
		for {
			st, err := bob.Next(c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Name == "iq" {
				if st.ID != "v1" || !strings.Contains(st.XML, "jabber:iq:version") {
					t.Errorf("bob got %s", st)
				}
				break
			}
		}
	})
}

func TestSendRejectsBadXML(t *testing.T) {
	t.Parallel()
	p := start(t)
	c := ctx(t)
	alice := xmpptest.DialT(t, p.C2SAddr, jid.MustParse("alice@example.test"), "pw-a")
	for _, raw := range []string{"<message>", "<a/><b/>", "text", "<message><body>x</message>"} {
		if err := alice.Send(c, raw); err == nil {
			t.Errorf("Send(%q) = nil, want an error", raw)
		}
	}
	// The stream is still fine.
	if err := alice.Ping(c); err != nil {
		t.Fatal(err)
	}
}

func TestRestart(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		c2s, comp := p.C2S(), p.Component()
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test"), "pw-a")
		// carol is offline: the message is stored in the data dir.
		if err := alice.Send(c, "<message to='carol@example.test' type='chat'><body>stored</body></message>"); err != nil {
			t.Fatal(err)
		}
		if err := alice.Ping(c); err != nil { // the message has been stored
			t.Fatal(err)
		}

		if err := p.Restart(c); err != nil {
			t.Fatal(err)
		}
		if p.C2S() != c2s || p.Component() != comp {
			t.Errorf("addresses changed: %s %s -> %s %s", c2s, comp, p.C2S(), p.Component())
		}
		// The old connection ends with an error, not a timeout.
		for {
			_, err := alice.Next(c)
			if err == nil {
				continue
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("old connection still open after restart")
			}
			break
		}

		alice2 := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test"), "pw-a")
		carol := xmpptest.DialT(t, p.C2S(), jid.MustParse("carol@example.test"), "pw-c")
		m, err := carol.NextMessage(c)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != "stored" || !strings.HasPrefix(m.From, "alice@example.test/") {
			t.Errorf("carol got %s, want the offline message", m)
		}
		if err := alice2.Send(c, "<message to='carol@example.test' type='chat'><body>live</body></message>"); err != nil {
			t.Fatal(err)
		}
		if m, err := carol.NextMessage(c); err != nil || m.Body != "live" {
			t.Errorf("carol got %s, %v", m, err)
		}
	})
}

func TestKillAndRestart(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		bob := xmpptest.DialT(t, p.C2S(), jid.MustParse("bob@example.test"), "pw-b")
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		if p.Running() {
			t.Fatal("still running after Kill")
		}
		for {
			if _, err := bob.Next(c); err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatal("connection still open after Kill")
				}
				break
			}
		}
		if err := p.Restart(c); err != nil {
			t.Fatal(err)
		}
		bob2 := xmpptest.DialT(t, p.C2S(), jid.MustParse("bob@example.test"), "pw-b")
		if err := bob2.Ping(c); err != nil {
			t.Fatal(err)
		}
		// Killed when its shutdown hangs (ErrForcedKill): stopped all the same.
		if err := p.Stop(); err != nil && !errors.Is(err, xmpptest.ErrForcedKill) {
			t.Fatal(err)
		}
		if err := p.Stop(); err != nil { // idempotent
			t.Fatal(err)
		}
	})
}

func TestSendXMPP(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test"), "pw-a")
		if err := xmpptest.SendXMPP(c, p, "bob", "pw-b", "alice@example.test", "hi from perl"); err != nil {
			t.Fatal(err)
		}
		m, err := alice.NextMessage(c)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != "hi from perl" || !strings.HasPrefix(m.From, "bob@example.test/sendxmpp") {
			t.Errorf("alice got %s", m)
		}
	})
}

func TestWrongPassword(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		if _, err := xmpptest.Dial(ctx(t), p.C2S(), jid.MustParse("alice@example.test"), "wrong"); err == nil {
			t.Fatal("Dial with a wrong password succeeded")
		}
	})
}

func TestNoComponentsExtraModules(t *testing.T) {
	t.Parallel()
	p := xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
		Domain:      domain,
		Modules:     []string{"version"},
		ExtraConfig: "hide_os_type = true -- read by mod_version\n",
	})
	c := ctx(t)
	if p.ComponentAddr != "" {
		t.Errorf("ComponentAddr = %q, want empty", p.ComponentAddr)
	}
	if err := p.RegisterUser(c, "dave", "pw"); err != nil { // while running
		t.Fatal(err)
	}
	dave := xmpptest.DialT(t, p.C2SAddr, jid.MustParse("dave@example.test"), "pw")
	if !strings.Contains(p.Log(), "Authenticated as dave@example.test") {
		t.Errorf("log lacks the login:\n%s", p.Log())
	}
	if err := dave.Send(c, "<iq type='get' to='example.test' id='ver'><query xmlns='jabber:iq:version'/></iq>"); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := dave.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if st.Name != "iq" {
			continue
		}
		if st.Type != "result" || !strings.Contains(st.XML, "Prosody") || strings.Contains(st.XML, "<os") {
			t.Errorf("version answer = %s", st)
		}
		break
	}
}

func TestStartProsodyNeedsDirAndDomain(t *testing.T) {
	t.Parallel()
	if _, err := xmpptest.StartProsody(ctx(t), xmpptest.ProsodyConfig{Domain: domain}); err == nil {
		t.Error("no error without Dir")
	}
	if _, err := xmpptest.StartProsody(ctx(t), xmpptest.ProsodyConfig{Dir: t.TempDir()}); err == nil {
		t.Error("no error without Domain")
	}
}

func TestPortInUseIsRetried(t *testing.T) {
	// Not parallel: it checks that a Restart waits for its port.
	p := start(t)
	// Killed when its shutdown hangs (ErrForcedKill): stopped all the same.
	if err := p.Stop(); err != nil && !errors.Is(err, xmpptest.ErrForcedKill) {
		t.Fatal(err)
	}
	// Occupy the c2s port, then free it while Restart retries.
	l, err := net.Listen("tcp", p.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	go func() { restarted <- p.Restart(ctx(t)) }()
	// Wait until Prosody has complained about the port, then release it.
	for !strings.Contains(p.Log(), "Failed to open server port") {
		select {
		case err := <-restarted:
			l.Close()
			t.Fatalf("Restart returned %v while the port was taken", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	l.Close()
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	xmpptest.DialT(t, p.C2SAddr, jid.MustParse("bob@example.test"), "pw-b")
}
