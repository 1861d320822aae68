package gwtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// The fakes' credentials, and the components' secret, in every Env.
const (
	TwilioSID    = "AC0123456789abcdef0123456789abcdef"
	TwilioToken  = "0123456789abcdef0123456789abcdef"
	BotToken     = "7000001:test-bot-token"
	ComponentKey = "s3cret-s3cret-s3cret"
	// The telegram-user transport's application and session key.
	TelegramAPIID      = 17349
	TelegramAPIHash    = "0123456789abcdef0123456789abcdef"
	TelegramSessionKey = "test-session-key-test-session-key-0123"
)

// Options say what Start runs.
type Options struct {
	// Server is xmpptest.ServerProsody (the default) or ServerEjabberd.
	Server string
	// Users are the server's accounts, localpart -> password; the default
	// is alice, bob and mallory, all with password "pw".
	Users map[string]string
	// Privileged gives components XEP-0356 roster access (see
	// xmpptest.ServerConfig).
	Privileged map[string]string
	// Messages are the Privileged components also granted XEP-0356's
	// message permission, with carbons on (Prosody only).
	Messages []string
	// NoSMS leaves out the SMS component and transport.
	NoSMS bool
	// WebSocket serves XMPP over WebSocket for browser clients (Prosody
	// only: Server.(*xmpptest.Prosody).WebSocketURL).
	WebSocket bool
	// TelegramUser adds the telegram-user transport on tg.example.test,
	// against an in-process MTProto server (Env.MTProto).
	TelegramUser bool
	// Dir is where New keeps the Env's files, the server's in Dir/SERVER
	// ("": a temporary directory that Close removes). Start uses the
	// test's temporary directories.
	Dir string
}

// Env is what a gateway under test runs against: an XMPP server on
// example.test with the components sms.example.test and
// telegram.example.test, the Twilio and Telegram Bot API fakes, a free
// loopback port for the gateway's HTTP listener, and a Config for all of
// them that the caller may change before Write.
type Env struct {
	Server xmpptest.Server
	Twilio *twiliofake.Fake // nil with NoSMS
	Bot    *botfake.Fake
	// MTProto is the fake Telegram server of the telegram-user
	// transport (Options.TelegramUser), or nil.
	MTProto *tguserfake.Server
	Public  string // the gateway's public_url, http://127.0.0.1:PORT
	Config  *Config
	// ConfigPath is where Write writes Config.
	ConfigPath string
	// Dir holds the Config, the store and (from New) the server's files.
	Dir string

	closers []func() // run by Close, last first
}

// Start starts an Env for a test; everything stops when the test ends.
// The Config has access for example.test, a SQLite store in a temporary
// directory, the SMS transport (alice's number is +15550001111) and the
// Telegram transport polling the fake.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	o.defaults()
	srv := xmpptest.StartServerT(t, o.Server, o.server(""))
	e, err := build(srv, o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// New starts an Env outside a test (make demo, make bench), in o.Dir, or
// in a temporary directory that Close removes. Close stops it.
func New(ctx context.Context, o Options) (*Env, error) {
	o.defaults()
	if err := xmpptest.Installed(); err != nil {
		return nil, err
	}
	dir, own := o.Dir, o.Dir == ""
	if own {
		var err error
		if dir, err = os.MkdirTemp("", "xmppgw-env-"); err != nil {
			return nil, fmt.Errorf("gwtest: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("gwtest: %w", err)
	}
	srv, err := xmpptest.StartServer(ctx, o.Server, o.server(filepath.Join(dir, o.Server)))
	if err != nil {
		if own {
			os.RemoveAll(dir)
		}
		return nil, err
	}
	e, err := build(srv, o, dir)
	if e != nil {
		e.closers = append([]func(){func() { srv.Stop() }}, e.closers...)
		if own {
			e.closers = append([]func(){func() { os.RemoveAll(dir) }}, e.closers...)
		}
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (o *Options) defaults() {
	if o.Server == "" {
		o.Server = xmpptest.ServerProsody
	}
	if o.Users == nil {
		o.Users = map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"}
	}
}

// server is the XMPP server's configuration, its files in dir ("": the
// test's own temporary directory).
func (o *Options) server(dir string) xmpptest.ServerConfig {
	components := map[string]string{"telegram.example.test": ComponentKey}
	if !o.NoSMS {
		components["sms.example.test"] = ComponentKey
	}
	if o.TelegramUser {
		components["tg.example.test"] = ComponentKey
	}
	return xmpptest.ServerConfig{Domain: "example.test", Components: components, Users: o.Users,
		Privileged: o.Privileged, Messages: o.Messages, WebSocket: o.WebSocket, Dir: dir}
}

// build starts the fakes beside srv and writes nothing yet: the Config is
// the caller's to change, then Write. On an error the returned Env, if
// any, holds what was started.
func build(srv xmpptest.Server, o Options, dir string) (*Env, error) {
	port, err := xmpptest.FreePort()
	if err != nil {
		return nil, err
	}
	e := &Env{Server: srv, Public: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir,
		ConfigPath: filepath.Join(dir, "xmppgw.yaml")}
	e.Bot = botfake.New(BotToken)
	botURL := e.Bot.Start()
	e.closers = append(e.closers, e.Bot.Close)
	e.Config = &Config{
		XMPP:   XMPP{Server: srv.Component()},
		Store:  Store{Path: filepath.Join(dir, "gw.db")},
		HTTP:   HTTP{Listen: fmt.Sprintf("127.0.0.1:%d", port), PublicURL: e.Public},
		Access: Access{Allow: []string{"example.test"}},
	}
	if !o.NoSMS {
		e.Twilio = twiliofake.New(TwilioSID, TwilioToken)
		apiURL, err := e.Twilio.Start()
		if err != nil {
			return e, err
		}
		e.closers = append(e.closers, e.Twilio.Close)
		e.Config.Transports = append(e.Config.Transports, SMSTransport(ComponentKey, SMS{AccountSID: TwilioSID,
			AuthToken: TwilioToken, APIURL: apiURL, Numbers: map[string]string{"alice@example.test": "+15550001111"}}))
	}
	e.Config.Transports = append(e.Config.Transports, TelegramTransport(ComponentKey, Telegram{Token: BotToken,
		APIURL: botURL, Mode: "polling"}))
	if o.TelegramUser {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := tguserfake.Start(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
		if err != nil {
			cancel()
			return e, err
		}
		e.MTProto = srv
		e.closers = append(e.closers, func() { srv.Close(); cancel() })
		e.Config.Transports = append(e.Config.Transports, TelegramUserTransport(ComponentKey, TelegramUser{
			APIID: TelegramAPIID, APIHash: TelegramAPIHash, SessionKey: TelegramSessionKey,
			Server: &MTProto{Address: srv.Addr(), DC: srv.DC(), PublicKey: string(srv.PublicKeyPEM())}}))
	}
	return e, nil
}

// Close stops what the Env started. Start's Env closes when its test ends.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Exec starts the gateway's binary on ConfigPath (see Exec).
func (e *Env) Exec(bin string, out io.Writer, env ...string) (*Process, error) {
	return Exec(bin, e.ConfigPath, out, env...)
}

// Ready waits until p, a gateway on this Env's Config, has both
// components connected.
func (e *Env) Ready(ctx context.Context, p *Process) error {
	return p.WaitReady(ctx, e.Public+"/readyz")
}

// SMS is the Config's SMS settings, to change them.
func (e *Env) SMS() *SMS { return e.settings("sms").(*SMS) }

// TelegramUser is the Config's telegram-user settings (Options.TelegramUser),
// to change them.
func (e *Env) TelegramUser() *TelegramUser { return e.settings("tg").(*TelegramUser) }

// Telegram is the Config's Telegram settings, to change them.
func (e *Env) Telegram() *Telegram { return e.settings("telegram").(*Telegram) }

func (e *Env) settings(name string) any {
	for i, tr := range e.Config.Transports {
		if tr.Name != name {
			continue
		}
		switch s := tr.Settings.(type) {
		case SMS:
			e.Config.Transports[i].Settings = &s
		case Telegram:
			e.Config.Transports[i].Settings = &s
		case TelegramUser:
			e.Config.Transports[i].Settings = &s
		}
		return e.Config.Transports[i].Settings
	}
	panic("gwtest: no transport " + name)
}

// Write writes the Config to ConfigPath.
func (e *Env) Write(t testing.TB) {
	t.Helper()
	if err := e.Config.Write(e.ConfigPath); err != nil {
		t.Fatal(err)
	}
}
