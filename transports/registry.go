package transports

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Problem is one thing wrong with a transport's settings. Key is the path
// below "settings", with dots between levels ("numbers.alice@example.com").
type Problem struct {
	Key string
	Msg string
}

// Invalid is the error a transport's constructor returns for settings
// with problems (the first is named), or nil if there are none.
func Invalid(transport string, probs []Problem) error {
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: invalid settings: %s: %s", transport, probs[0].Key, probs[0].Msg)
}

// Settings is a transport type's settings block, decoded from YAML.
type Settings interface {
	// Validate reports every problem with the decoded values and fills in
	// defaults. It does no I/O.
	Validate() []Problem
}

// UserJIDs is implemented by Settings that name XMPP users (a number's
// owner, an inbox's members). The config checks each by the XMPP address
// rules, which transports do not import: it must be a bare JID written as
// the gateway compares JIDs (canonical), or the user would silently not
// match.
type UserJIDs interface {
	// UserJIDs returns, after Validate, each JID named, by the key that
	// names it (relative to the settings, as in Problem.Key).
	UserJIDs() map[string]string
}

// Claims is implemented by Settings that hold something only one transport
// may use: a sender number (the provider calls one webhook for it), a bot
// token (its updates go to one poller or one webhook). The config refuses
// a claim that another transport makes too.
type Claims interface {
	// Claims returns, after a Validate that found no problem, each thing
	// claimed.
	Claims() []Claim
}

// Claim is one thing a transport's settings hold for it alone. A problem
// with a claim made again reads "SHOWN is already USE on transport NAME",
// with Shown from the later claim and Use from the earlier.
type Claim struct {
	Key string // the setting that claims it, as in Problem.Key
	// ID is the thing claimed, compared across every transport's claims:
	// it starts with its kind ("twilio number +15550001111"). It may be a
	// secret: it is never shown.
	ID string
	// Shown is how a problem names it ("this bot token"); empty, the
	// problem quotes the config text of Key as written ("${NUM}",
	// "+1 555 000 1111"), for a value that is no secret but may come
	// from the environment, and that the ID holds normalised.
	Shown string
	Use   string // what it is used as here: "alice@example.com's number", "in use"
}

// Params is what every transport gets from the config, beside its settings.
type Params struct {
	Name      string // unique name; webhooks live under /hooks/<Name>/
	Domain    string // the component's domain, e.g. "sms.example.com"
	PublicURL string // public base URL of the webhooks, ending in "/hooks/<Name>"
	MediaURL  string // public base URL of served media, ending in "/media/<Name>"
	State     KV     // durable state private to this transport
	Logger    *slog.Logger
	// Fetch decides which addresses users' attachment URLs may reach when
	// the transport fetches them (media.fetch_allow); nil is
	// DefaultFetchPolicy.
	Fetch *FetchPolicy
	// MediaTTL is how long the media URLs the transport signs stay valid
	// (media.url_ttl); 0 is DefaultMediaTTL.
	MediaTTL time.Duration
}

// Identity describes a kind of transport to XMPP users (XEP-0030, XEP-0100).
type Identity struct {
	Gateway string // XEP-0030 "gateway" identity type: "sms", "telegram"
	Name    string // human name of the network: "SMS"
	Prompt  string // what a user types to reach a contact: "Phone number"
	Desc    string // one sentence of help for that prompt
}

// Type describes a kind of transport ("twilio", "telegram").
type Type struct {
	Name     string
	Identity Identity
	// NewSettings returns a pointer to a new settings value to decode into.
	NewSettings func() Settings
	// New builds a transport from validated settings. It has no side
	// effects: no network, no goroutines.
	New func(p Params, s Settings) (Transport, error)
}

var (
	regMu sync.RWMutex
	types = map[string]Type{}
)

// Register makes a transport type available by name. It is meant to be
// called from init functions and panics on a duplicate name.
func Register(t Type) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := types[t.Name]; dup {
		panic(fmt.Sprintf("transports: type %q registered twice", t.Name))
	}
	types[t.Name] = t
}

// RegisterNew registers the transport type name, whose settings are a
// *S, built by newTransport: the usual init of a transport package.
func RegisterNew[S any, PS interface {
	*S
	Settings
}, T Transport](name string, id Identity, newTransport func(Params, PS) (T, error)) {
	Register(Type{
		Name:        name,
		Identity:    id,
		NewSettings: func() Settings { return PS(new(S)) },
		New: func(p Params, s Settings) (Transport, error) {
			ss, ok := s.(PS)
			if !ok {
				return nil, fmt.Errorf("%s: settings are %T, want %T", name, s, PS(nil))
			}
			return newTransport(p, ss)
		},
	})
}

// Lookup returns the registered type with the given name.
func Lookup(name string) (Type, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	t, ok := types[name]
	return t, ok
}

// Names returns the registered type names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(types))
	for n := range types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
