package gwtest

import (
	"fmt"
	"path/filepath"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// The fakes' credentials, and the components' secret, in every Env.
const (
	TwilioSID    = "AC0123456789abcdef0123456789abcdef"
	TwilioToken  = "0123456789abcdef0123456789abcdef"
	BotToken     = "7000001:test-bot-token"
	ComponentKey = "s3cret-s3cret-s3cret"
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
	// NoSMS leaves out the SMS component and transport.
	NoSMS bool
	// WebSocket serves XMPP over WebSocket for browser clients (Prosody
	// only: Server.(*xmpptest.Prosody).WebSocketURL).
	WebSocket bool
}

// Env is what a gateway under test runs against: an XMPP server on
// example.test with the components sms.example.test and
// telegram.example.test, the Twilio and Telegram Bot API fakes, a free
// loopback port for the gateway's HTTP listener, and a Config for all of
// them that the test may change before Write. Everything stops when the
// test ends.
type Env struct {
	Server xmpptest.Server
	Twilio *twiliofake.Fake // nil with NoSMS
	Bot    *botfake.Fake
	Public string // the gateway's public_url, http://127.0.0.1:PORT
	Config *Config
	// ConfigPath is where Write writes Config.
	ConfigPath string
}

// Start starts an Env. The Config has access for example.test, a SQLite
// store in a temporary directory, the SMS transport (alice's number is
// +15550001111) and the Telegram transport polling the fake.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Server == "" {
		o.Server = xmpptest.ServerProsody
	}
	if o.Users == nil {
		o.Users = map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"}
	}
	components := map[string]string{"telegram.example.test": ComponentKey}
	if !o.NoSMS {
		components["sms.example.test"] = ComponentKey
	}
	srv := xmpptest.StartServerT(t, o.Server, xmpptest.ServerConfig{
		Domain: "example.test", Components: components, Users: o.Users, Privileged: o.Privileged,
		WebSocket: o.WebSocket,
	})
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Server: srv, Public: fmt.Sprintf("http://127.0.0.1:%d", port), ConfigPath: filepath.Join(t.TempDir(), "xmppgw.yaml")}
	e.Bot = botfake.New(BotToken)
	botURL := e.Bot.Start()
	t.Cleanup(e.Bot.Close)
	e.Config = &Config{
		XMPP:   XMPP{Server: srv.Component()},
		Store:  Store{Path: filepath.Join(t.TempDir(), "gw.db")},
		HTTP:   HTTP{Listen: fmt.Sprintf("127.0.0.1:%d", port), PublicURL: e.Public},
		Access: Access{Allow: []string{"example.test"}},
	}
	if !o.NoSMS {
		e.Twilio = twiliofake.New(TwilioSID, TwilioToken)
		apiURL, err := e.Twilio.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Twilio.Close)
		e.Config.Transports = append(e.Config.Transports, SMSTransport(ComponentKey, SMS{AccountSID: TwilioSID,
			AuthToken: TwilioToken, APIURL: apiURL, Numbers: map[string]string{"alice@example.test": "+15550001111"}}))
	}
	e.Config.Transports = append(e.Config.Transports, TelegramTransport(ComponentKey, Telegram{Token: BotToken,
		APIURL: botURL, Mode: "polling"}))
	return e
}

// SMS is the Config's SMS settings, to change them.
func (e *Env) SMS() *SMS { return e.settings("sms").(*SMS) }

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
