//go:build integration

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/configs"
	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

const (
	testSID   = gwtest.TwilioSID
	testToken = gwtest.TwilioToken
	aliceNum  = "+15550001111"
	tgToken   = gwtest.BotToken
	tgSecret  = "tg-hook-secret-0123"
)

// env is one running system: an XMPP server (Prosody unless
// envOptions.server says otherwise), the Twilio and Telegram fakes and the
// gateway.
type env struct {
	srv     xmpptest.Server   // the XMPP server, Prosody or ejabberd
	prosody *xmpptest.Prosody // srv when it is Prosody (the default), else nil
	twilio  *twiliofake.Fake
	tg      *botfake.Fake
	mt      *tguserfake.Server // the MTProto fake (envOptions.tgUser), or nil
	public  string             // the gateway's public_url (its HTTP listener here)
	cfg     *gwtest.Config
	cfgPath string
	stop    func() // stops the gateway and waits for it
	// logFile, if set, gets the gateway's log too (the test log gets it
	// always).
	logFile string
}

// envOptions say what startEnv runs: the XMPP server, the Telegram
// transport's settings, and what the narrower tests add.
type envOptions struct {
	mode   string            // polling (default) or webhook
	chats  map[string]string // static links
	server string            // xmpptest.ServerProsody (default) or xmpptest.ServerEjabberd
	// fetchAllow is media.fetch_allow: what users' attachment URLs may
	// reach beside the Internet (nothing by default, not even loopback).
	fetchAllow []string
	// tgChats are chats the Telegram fake knows (their names) from the
	// start.
	tgChats []botfake.Chat
	// webSocket serves XMPP over WebSocket too (Prosody), for browsers.
	webSocket bool
	// roster gives telegram.example.test XEP-0356 roster access ("both",
	// "get"...); noSMS leaves the SMS component and transport out.
	roster string
	noSMS  bool
	// logFile, if set, gets the gateway's log too.
	logFile string
	// alerts is the config's alerts block (nil: none).
	alerts *gwtest.Alerts
	// contacts is the config's address book.
	contacts map[string]string
	// inboxes are the SMS transport's team inboxes.
	inboxes []gwtest.Inbox
	// tgUser adds the telegram-user transport on tg.example.test against
	// the MTProto fake (env.mt); tgUserRoster gives that component
	// XEP-0356 roster access.
	tgUser       bool
	tgUserRoster string
	// tgUserCarbons grants tg.example.test XEP-0356's message permission
	// too, with carbons on (Prosody).
	tgUserCarbons bool
}

// startEnv starts a gwtest.Env (Prosody unless opts say otherwise, with
// alice, bob and mallory, the Twilio and Telegram fakes) and the gateway in
// this process, with its SMS and Telegram transports; only alice and bob may
// use it, and bob is its admin.
func startEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.mode == "" {
		o.mode = "polling"
	}
	if o.server == "" {
		o.server = xmpptest.ServerProsody
	}
	gopts := gwtest.Options{Server: o.server, WebSocket: o.webSocket, NoSMS: o.noSMS, TelegramUser: o.tgUser}
	if o.roster != "" {
		if o.server == xmpptest.ServerProsody {
			if err := xmpptest.PrivilegeInstalled(); err != nil {
				t.Fatalf("%v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
			}
		}
		gopts.Privileged = map[string]string{"telegram.example.test": o.roster}
	}
	if o.tgUserRoster != "" {
		if gopts.Privileged == nil {
			gopts.Privileged = map[string]string{}
		}
		gopts.Privileged["tg.example.test"] = o.tgUserRoster
		if o.tgUserCarbons {
			gopts.Messages = []string{"tg.example.test"}
		}
	}
	g := gwtest.Start(t, gopts)
	e := &env{srv: g.Server, twilio: g.Twilio, tg: g.Bot, mt: g.MTProto, public: g.Public, cfg: g.Config, cfgPath: g.ConfigPath,
		logFile: o.logFile}
	e.prosody, _ = g.Server.(*xmpptest.Prosody)
	e.cfg.Access.Allow = []string{"alice@example.test", "bob@example.test"}
	e.cfg.Admins = []string{"bob@example.test"}
	e.cfg.Log = &gwtest.Log{Level: "debug"}
	for i := range e.cfg.Transports {
		e.cfg.Transports[i].Secret = "${TEST_COMPONENT_SECRET}" // the config's ${VAR}s are expanded
	}
	for _, c := range o.tgChats {
		g.Bot.AddChat(c)
	}
	tg := g.Telegram()
	tg.Mode, tg.WebhookSecret, tg.Chats = o.mode, tgSecret, o.chats
	tg.RateLimits = &gwtest.TelegramRates{ChatPerSecond: 50, GroupPerMinute: 3000}
	if o.fetchAllow != nil {
		e.cfg.Media = &gwtest.Media{FetchAllow: o.fetchAllow}
	}
	e.cfg.Alerts = o.alerts
	e.cfg.Contacts = o.contacts
	if o.inboxes != nil {
		g.SMS().Inboxes = o.inboxes
	}
	g.Write(t)
	t.Setenv("TEST_COMPONENT_SECRET", gwtest.ComponentKey)
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
	var w io.Writer = testWriter{t}
	if e.logFile != "" {
		f, err := os.OpenFile(e.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		w = io.MultiWriter(w, f)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
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
