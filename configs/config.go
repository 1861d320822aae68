package configs

import (
	_ "embed"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// Example is the commented example configuration (example.yaml).
//
//go:embed example.yaml
var Example []byte

// Config is a loaded and validated configuration.
type Config struct {
	File       string      `yaml:"-"` // the file it was read from
	XMPP       XMPP        `yaml:"xmpp"`
	Store      Store       `yaml:"store"`
	HTTP       HTTP        `yaml:"http"`
	Access     Access      `yaml:"access"`
	Admins     []string    `yaml:"admins"` // bare JIDs allowed the admin commands
	Log        Log         `yaml:"log"`
	Alerts     *Alerts     `yaml:"alerts"` // nil: POST /alerts is off
	Media      Media       `yaml:"media"`
	Transports []Transport `yaml:"transports"`
	// Contacts names numbers (+15557654321, on every SMS transport) and
	// transports' contacts (their JIDs) for the address book.
	Contacts map[string]string `yaml:"contacts"`
	// ContactLines is the line of each key of Contacts.
	ContactLines map[string]int `yaml:"-"`
}

// XMPP is the connection to the XMPP server.
type XMPP struct {
	Server string `yaml:"server"` // host:port of the server's component listener
}

// Store is the gateway's database.
type Store struct {
	Driver string `yaml:"driver"` // "sqlite" (the default) or "postgres"
	Path   string `yaml:"path"`   // sqlite: default "data/xmppgw.db"
	DSN    string `yaml:"dsn"`    // postgres: a connection string or URL
}

// HTTP is the webhook listener.
type HTTP struct {
	Listen    string `yaml:"listen"`     // host:port; port 0 picks a free one
	PublicURL string `yaml:"public_url"` // absolute http(s) URL, no trailing slash
	// OpsListen, if set, is where /healthz, /readyz, /metrics (and
	// pprof) answer instead of Listen.
	OpsListen string `yaml:"ops_listen"`
}

// Access says who may use the gateway.
type Access struct {
	// Allow holds domains ("example.com") and bare JIDs ("ops@other.org"),
	// in canonical form after loading. Empty means nobody is allowed. It is
	// read-only once loaded: Allowed answers from an index of it.
	Allow []string `yaml:"allow"`

	index *allowIndex // built by Parse; nil in a Config written by hand
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn or error
	Format string `yaml:"format"` // text (default) or json
}

// Transport is one configured transport: one component connection.
type Transport struct {
	Name   string `yaml:"name"`   // unique; webhooks live under /hooks/<name>/
	Type   string `yaml:"type"`   // a registered transports.Type
	Domain string `yaml:"domain"` // the component's domain, canonical form
	Secret string `yaml:"secret"` // the component's shared secret
	// RetryFor is how long temporary provider failures are retried before
	// the sender gets an error (default 10 minutes).
	RetryFor time.Duration       `yaml:"retry_for"`
	Settings transports.Settings `yaml:"-"` // decoded and validated settings
	Line     int                 `yaml:"-"` // line of this list item
}

// UserDomain reports whether some users of domain may use the gateway:
// access.allow lists the domain, or a bare JID of it. These are the
// domains whose servers' XEP-0356 grants the gateway reads. Case does not
// matter.
func (c *Config) UserDomain(domain string) bool {
	d, err := jid.Parse(domain)
	if err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
		return false
	}
	if ix := c.Access.index; ix != nil {
		return ix.users[d.Domainpart()]
	}
	for _, a := range c.Access.Allow {
		if e, err := jid.Parse(a); err == nil && e.Domainpart() == d.Domainpart() {
			return true
		}
	}
	return false
}

// Allowed reports whether the user with the given bare JID may use the
// gateway: its domain or the bare JID itself must be listed in access.allow.
// Both sides are compared in canonical form, so case does not matter.
// Subdomains of a listed domain are not allowed.
func (c *Config) Allowed(bareJID string) bool {
	if ix := c.Access.index; ix != nil {
		return ix.allowed(bareJID)
	}
	j, err := jid.Parse(bareJID)
	if err != nil {
		return false
	}
	bare := j.Bare().String()
	for _, a := range c.Access.Allow {
		e, err := jid.Parse(a)
		if err != nil {
			continue
		}
		if e.Localpart() == "" {
			if e.Domainpart() == j.Domainpart() {
				return true
			}
		} else if e.Bare().String() == bare {
			return true
		}
	}
	return false
}
