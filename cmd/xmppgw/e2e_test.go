//go:build integration

package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/configs"
	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	aliceNum  = "+15550001111"
	tgToken   = "7000001:test-bot-token"
	tgSecret  = "tg-hook-secret-0123"
)

// env is one running system: an XMPP server (Prosody unless
// tgOptions.server says otherwise), the Twilio and Telegram fakes and the
// gateway.
type env struct {
	srv     xmpptest.Server   // the XMPP server, Prosody or ejabberd
	prosody *xmpptest.Prosody // srv when it is Prosody (the default), else nil
	twilio  *twiliofake.Fake
	tg      *botfake.Fake
	public  string // the gateway's public_url (its HTTP listener here)
	cfg     *gwtest.Config
	cfgPath string
	stop    func() // stops the gateway and waits for it
}

// tgOptions are the Telegram transport's settings in a test env, and the
// XMPP server to run.
type tgOptions struct {
	mode   string            // polling (default) or webhook
	chats  map[string]string // static links
	server string            // xmpptest.ServerProsody (default) or xmpptest.ServerEjabberd
	// fetchAllow is media.fetch_allow: what users' attachment URLs may
	// reach beside the Internet (nothing by default, not even loopback).
	fetchAllow []string
}

// startEnv starts an XMPP server (Prosody unless tgOpts says otherwise) with
// alice, bob and mallory, the Twilio and Telegram fakes, and the gateway (in
// this process) on a store in dir, with an SMS and a Telegram transport.
func startEnv(t *testing.T, tgOpts ...tgOptions) *env {
	t.Helper()
	var tgo tgOptions
	if len(tgOpts) > 0 {
		tgo = tgOpts[0]
	}
	if tgo.mode == "" {
		tgo.mode = "polling"
	}
	if tgo.server == "" {
		tgo.server = xmpptest.ServerProsody
	}
	srv := xmpptest.StartServerT(t, tgo.server, xmpptest.ServerConfig{
		Domain:     "example.test",
		Components: map[string]string{"sms.example.test": "s3cret-s3cret-s3cret", "telegram.example.test": "s3cret-s3cret-s3cret"},
		Users:      map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"},
	})
	fake := twiliofake.New(testSID, testToken)
	apiURL, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tg := botfake.New(tgToken)
	tgURL := tg.Start()
	t.Cleanup(tg.Close)
	e := &env{srv: srv, twilio: fake, tg: tg, public: fmt.Sprintf("http://127.0.0.1:%d", port)}
	e.prosody, _ = srv.(*xmpptest.Prosody)
	e.cfgPath = filepath.Join(t.TempDir(), "xmppgw.yaml")
	e.cfg = &gwtest.Config{
		XMPP:   gwtest.XMPP{Server: srv.Component()},
		Store:  gwtest.Store{Path: filepath.Join(t.TempDir(), "gw.db")},
		HTTP:   gwtest.HTTP{Listen: fmt.Sprintf("127.0.0.1:%d", port), PublicURL: e.public},
		Access: gwtest.Access{Allow: []string{"alice@example.test", "bob@example.test"}},
		Admins: []string{"bob@example.test"},
		Log:    &gwtest.Log{Level: "debug"},
		Transports: []gwtest.Transport{
			gwtest.SMSTransport("${TEST_COMPONENT_SECRET}", gwtest.SMS{AccountSID: testSID, AuthToken: testToken, APIURL: apiURL,
				Numbers: map[string]string{"alice@example.test": aliceNum}}),
			gwtest.TelegramTransport("${TEST_COMPONENT_SECRET}", gwtest.Telegram{Token: tgToken, APIURL: tgURL, Mode: tgo.mode,
				WebhookSecret: tgSecret, RateLimits: &gwtest.TelegramRates{ChatPerSecond: 50, GroupPerMinute: 3000}, Chats: tgo.chats}),
		},
	}
	if tgo.fetchAllow != nil {
		e.cfg.Media = &gwtest.Media{FetchAllow: tgo.fetchAllow}
	}
	if err := e.cfg.Write(e.cfgPath); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_COMPONENT_SECRET", "s3cret-s3cret-s3cret")
	e.start(t)
	return e
}

// start runs the gateway on e's config until e.stop.
func (e *env) start(t *testing.T) {
	t.Helper()
	c, err := configs.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- serve(ctx, c, log, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("gateway: %v", err)
	}
	e.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			e.stop()
		}
	})
	e.waitReady(t)
}

// waitReady polls /readyz until the component is connected.
func (e *env) waitReady(t *testing.T) {
	t.Helper()
	if err := xmpptest.WaitReady(testCtx(t), e.public+"/readyz", nil); err != nil {
		t.Fatal(err)
	}
}

func (e *env) login(t *testing.T, user string) *xmpptest.Client {
	t.Helper()
	return xmpptest.DialT(t, e.srv.C2S(), jid.MustParse(user+"@example.test/test"), "pw")
}

// forEachServer runs test as one subtest per XMPP server (xmpptest.Servers),
// named after it: TestX/prosody, TestX/ejabberd. Not in parallel: startEnv
// uses t.Setenv.
func forEachServer(t *testing.T, test func(t *testing.T, server string)) {
	t.Helper()
	for _, server := range xmpptest.Servers {
		t.Run(server, func(t *testing.T) { test(t, server) })
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testWriter sends the gateway's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// nextMessage returns alice's next message, failing the test on timeout.
func nextMessage(t *testing.T, c *xmpptest.Client) xmpptest.Stanza {
	t.Helper()
	s, err := c.NextMessage(testCtx(t))
	if err != nil {
		t.Fatalf("no message for %s: %v", c.JID, err)
	}
	return s
}
