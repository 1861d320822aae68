package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"

	"xmppgw/internal/quietlog"
	"xmppgw/transports"
)

// TypeName is the transport type this package registers.
const TypeName = "twilio"

func init() {
	transports.RegisterNew(TypeName, transports.Identity{
		Gateway: "sms",
		Name:    "SMS",
		Prompt:  "Phone number",
		Desc:    "Enter a phone number, with its country code (+1 555 123 4567) or in your region's national form.",
	}, New)
}

// Transport is a Twilio SMS transport. It is safe for concurrent use.
type Transport struct {
	name      string
	publicURL string // ends in "/hooks/<name>", no trailing slash; may be empty
	settings  Settings
	apiBase   *url.URL
	accounts  map[string]transports.Addr
	validator client.RequestValidator
	pace      *pacer
	numbers   numberCache
	log       *slog.Logger
	quiet     *slog.Logger // for what outsiders can make it log (quietlog)

	mediaURL string                  // ends in "/media/<name>", no trailing slash; may be empty
	signer   *transports.MediaSigner // signs media URLs; keyed by the auth token
	policy   *transports.FetchPolicy // which addresses users' attachment URLs may reach
	state    transports.KV           // where inbound media URLs are kept; may be nil
	memMedia sync.Map                // inbound media URLs when state is nil
	parts    parts                   // sends of several messages (parts.go)
	inLoad   transports.MediaSlots   // GETs of inbound media being served (media.go)
	outLoad  transports.MediaSlots   // GETs of users' attachments being served (media.go)

	// Replaceable in tests.
	httpTransport http.RoundTripper
	// fetchTransport fetches users' attachment URLs, under policy.
	fetchTransport http.RoundTripper
	now            func() time.Time
	isPublic       func(ctx context.Context, rawURL string) bool
}

var (
	_ transports.Transport       = (*Transport)(nil)
	_ transports.WebhookReceiver = (*Transport)(nil)
	_ transports.Reconciler      = (*Transport)(nil)
	_ transports.Pacer           = (*Transport)(nil)
	_ transports.Quota           = (*Transport)(nil)
	_ transports.MediaServer     = (*Transport)(nil)
	_ transports.Inboxes         = (*Transport)(nil)
)

// New builds a transport from settings. It validates a copy of s (so it also
// accepts settings whose Validate was not called) and has no side effects.
// Without p.PublicURL, Send asks for no status callbacks and no webhook
// signature can match.
func New(p transports.Params, s *Settings) (*Transport, error) {
	if s == nil {
		return nil, fmt.Errorf("sms: no settings")
	}
	cp := *s
	cp.Numbers = maps.Clone(s.Numbers)
	if err := transports.Invalid("sms", cp.Validate()); err != nil {
		return nil, err
	}
	base, err := url.Parse(cp.APIURL)
	if err != nil {
		return nil, fmt.Errorf("sms: api_url: %v", err) // unreachable after Validate
	}
	accounts := make(map[string]transports.Addr, len(cp.Numbers))
	for jid, num := range cp.Numbers {
		accounts[jid] = transports.Addr(num)
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := hmac.New(sha256.New, []byte("xmppgw sms media"))
	key.Write([]byte(cp.AuthToken))
	policy := p.Fetch
	if policy == nil {
		policy = transports.DefaultFetchPolicy()
	}
	t := &Transport{
		name:           p.Name,
		mediaURL:       strings.TrimRight(p.MediaURL, "/"),
		policy:         policy,
		state:          p.State,
		isPublic:       transports.IsPublicURL,
		publicURL:      strings.TrimRight(p.PublicURL, "/"),
		settings:       cp,
		apiBase:        base,
		accounts:       accounts,
		validator:      client.NewRequestValidator(cp.AuthToken),
		pace:           newPacer(cp.RateLimits),
		log:            log.With("transport", p.Name),
		quiet:          quietlog.New(log.With("transport", p.Name)),
		httpTransport:  transports.HTTPTransport(),
		fetchTransport: policy.Transport(),
		now:            time.Now,
	}
	t.parts.progress, t.parts.mem = map[string]sentParts{}, map[string]string{}
	t.signer = transports.NewMediaSigner(key.Sum(nil), p.MediaTTL, func() time.Time { return t.now() })
	return t, nil
}

// Name implements transports.Transport.
func (t *Transport) Name() string { return t.name }

// Accounts implements transports.Transport: bare JID -> E.164 sender number.
func (t *Transport) Accounts() map[string]transports.Addr { return t.accounts }

// Inboxes implements transports.Inboxes.
func (t *Transport) Inboxes() []transports.Inbox {
	var out []transports.Inbox
	for _, b := range t.settings.Inboxes {
		out = append(out, transports.Inbox{Account: transports.Addr(b.Number), Room: b.Room, Members: slices.Clone(b.Members)})
	}
	return out
}

// Run implements transports.Transport. Everything arrives by webhook, so it
// only waits for ctx.
func (t *Transport) Run(ctx context.Context, _ transports.Sink) error {
	<-ctx.Done()
	return nil
}
