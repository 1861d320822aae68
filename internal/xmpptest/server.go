package xmpptest

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// The servers xmpptest can run.
const (
	ServerProsody  = "prosody"
	ServerEjabberd = "ejabberd"
)

// Servers lists every server xmpptest can run, for tests that run against
// each: for _, srv := range xmpptest.Servers { t.Run(srv, ...) }.
var Servers = []string{ServerProsody, ServerEjabberd}

// Server is a test XMPP server, Prosody or ejabberd, on loopback without TLS.
// The concrete types also have exported fields (C2SAddr, ComponentAddr,
// Domain, Dir, LogPath) with the same values.
type Server interface {
	Kind() string      // ServerProsody or ServerEjabberd
	C2S() string       // client-to-server address, "127.0.0.1:PORT"
	Component() string // XEP-0114 address; "" if no components are configured
	Host() string      // the users' domain, e.g. "example.test"

	// RegisterUser creates user@Host(), or sets its password if it exists.
	// ejabberd needs to be running for it; Prosody does not.
	RegisterUser(ctx context.Context, user, password string) error
	// Stop shuts the server down cleanly; Kill with SIGKILL. Either is a
	// no-op on a stopped server.
	Stop() error
	Kill() error
	// Restart starts a stopped (or running) server again on the same ports
	// with the same data: accounts and offline messages survive.
	Restart(ctx context.Context) error
	Running() bool
	Log() string // the server's log, all runs
}

// ServerConfig is what both servers take.
type ServerConfig struct {
	Domain     string            // e.g. "example.test"; required
	Components map[string]string // XEP-0114 component domain -> secret
	Users      map[string]string // localpart -> password
	Dir        string            // working dir; a t.TempDir() if empty
	// Privileged makes components XEP-0356 privileged entities: component
	// domain -> roster access ("get", "set" or "both"), with Prosody's
	// mod_privilege (prosody-modules) or ejabberd's.
	Privileged map[string]string
	// Messages are the privileged components (Privileged) also granted
	// XEP-0356's message permission ("outgoing"), with XEP-0280 carbons
	// on (Prosody only).
	Messages []string
	// WebSocket serves XMPP over WebSocket for browser clients (Prosody
	// only; see ProsodyConfig.WebSocket).
	WebSocket bool
}

// StartServerT starts the server named kind (one of Servers) for a test, as
// StartProsodyT or StartEjabberdT do: it fails the test (it does not skip)
// if the server is not installed or does not start, and stops it in
// t.Cleanup.
func StartServerT(t testing.TB, kind string, cfg ServerConfig) Server {
	t.Helper()
	switch kind {
	case ServerProsody:
		return StartProsodyT(t, ProsodyConfig{Domain: cfg.Domain, Components: cfg.Components, Users: cfg.Users, Dir: cfg.Dir, Privileged: cfg.Privileged, Messages: cfg.Messages, WebSocket: cfg.WebSocket})
	case ServerEjabberd:
		if cfg.WebSocket {
			t.Fatal("xmpptest: ServerConfig.WebSocket is Prosody's only")
		}
		return StartEjabberdT(t, EjabberdConfig{Domain: cfg.Domain, Components: cfg.Components, Users: cfg.Users, Dir: cfg.Dir, Privileged: cfg.Privileged})
	}
	t.Fatalf("xmpptest: unknown server %q (want one of %v)", kind, Servers)
	return nil
}

// StartServer is StartServerT without package testing; cfg.Dir is required.
func StartServer(ctx context.Context, kind string, cfg ServerConfig) (Server, error) {
	switch kind {
	case ServerProsody:
		return StartProsody(ctx, ProsodyConfig{Domain: cfg.Domain, Components: cfg.Components, Users: cfg.Users, Dir: cfg.Dir, Privileged: cfg.Privileged, WebSocket: cfg.WebSocket})
	case ServerEjabberd:
		if cfg.WebSocket {
			return nil, errors.New("xmpptest: ServerConfig.WebSocket is Prosody's only")
		}
		return StartEjabberd(ctx, EjabberdConfig{Domain: cfg.Domain, Components: cfg.Components, Users: cfg.Users, Dir: cfg.Dir, Privileged: cfg.Privileged})
	}
	return nil, fmt.Errorf("xmpptest: unknown server %q (want one of %v)", kind, Servers)
}

var (
	_ Server = (*Prosody)(nil)
	_ Server = (*Ejabberd)(nil)
)

// Kind returns ServerProsody.
func (p *Prosody) Kind() string { return ServerProsody }

// C2S returns p.C2SAddr.
func (p *Prosody) C2S() string { return p.C2SAddr }

// Component returns p.ComponentAddr.
func (p *Prosody) Component() string { return p.ComponentAddr }

// Host returns p.Domain.
func (p *Prosody) Host() string { return p.Domain }

// Kind returns ServerEjabberd.
func (e *Ejabberd) Kind() string { return ServerEjabberd }

// C2S returns e.C2SAddr.
func (e *Ejabberd) C2S() string { return e.C2SAddr }

// Component returns e.ComponentAddr.
func (e *Ejabberd) Component() string { return e.ComponentAddr }

// Host returns e.Domain.
func (e *Ejabberd) Host() string { return e.Domain }
