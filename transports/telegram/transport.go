package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"xmppgw/internal/quietlog"
	"xmppgw/transports"
)

// TypeName is the transport type this package registers.
const TypeName = "telegram"

func init() {
	transports.RegisterNew(TypeName, transports.Identity{
		Gateway: "telegram",
		Name:    "Telegram",
		Prompt:  "Chat ID",
		Desc:    "Enter the id of a Telegram chat linked to you (send \"link\" to the gateway to link one).",
	}, New)
}

// Transport is a Telegram bot transport. It is safe for concurrent use.
type Transport struct {
	name      string
	domain    string
	s         Settings
	endpoint  string                  // api_url + "/bot%s/%s", as the library wants it
	publicURL string                  // ends in "/hooks/<name>"
	mediaURL  string                  // ends in "/media/<name>"
	signer    *transports.MediaSigner // signs media URLs
	state     transports.KV
	static    map[transports.Addr]string
	log       *slog.Logger
	quiet     *slog.Logger // for what outsiders can make it log (quietlog)
	http      *http.Client
	fetch     *http.Client            // users' attachment URLs, under policy
	policy    *transports.FetchPolicy // which addresses fetch may reach
	pace      *pacer
	mediaLoad transports.MediaSlots // media GETs being served (media.go)

	pollTimeout time.Duration // getUpdates long-poll timeout

	// replies are the bot's own answers in chats, sent in order by Run's
	// replier (replying), off the poll loop and the webhook handler.
	replies  chan botReply
	replying atomic.Bool

	mu       sync.Mutex
	botName  string             // the bot's @username, once getMe answered
	progress map[string]partial // job id -> the parts sent so far
	helped   lastDone           // when an unlinked chat was last told how to link
	waiting  map[int64]int      // per chat, the answers waiting for the replier
}

var (
	_ transports.Transport       = (*Transport)(nil)
	_ transports.Linker          = (*Transport)(nil)
	_ transports.Typer           = (*Transport)(nil)
	_ transports.WebhookReceiver = (*Transport)(nil)
	_ transports.MediaServer     = (*Transport)(nil)
	_ transports.Pacer           = (*Transport)(nil)
)

// New builds a transport from settings. It validates a copy of s and has no
// side effects: the bot is first contacted by Run.
func New(p transports.Params, s *Settings) (*Transport, error) {
	if s == nil {
		return nil, fmt.Errorf("telegram: no settings")
	}
	cp := *s
	cp.Chats = maps.Clone(s.Chats)
	if err := transports.Invalid("telegram", cp.Validate()); err != nil {
		return nil, err
	}
	if p.State == nil {
		return nil, fmt.Errorf("telegram: no state store")
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static := make(map[transports.Addr]string, len(cp.Chats))
	for chat, user := range cp.Chats {
		static[transports.Addr(chat)] = user
	}
	key := hmac.New(sha256.New, []byte("xmppgw media"))
	key.Write([]byte(cp.Token))
	policy := p.Fetch
	if policy == nil {
		policy = transports.DefaultFetchPolicy()
	}
	return &Transport{
		name:        p.Name,
		domain:      p.Domain,
		s:           cp,
		endpoint:    cp.APIURL + "/bot%s/%s",
		publicURL:   strings.TrimRight(p.PublicURL, "/"),
		mediaURL:    strings.TrimRight(p.MediaURL, "/"),
		signer:      transports.NewMediaSigner(key.Sum(nil), p.MediaTTL, nil),
		state:       p.State,
		static:      static,
		log:         log.With("transport", p.Name),
		quiet:       quietlog.New(log.With("transport", p.Name)),
		http:        &http.Client{Transport: transports.HTTPTransport()},
		fetch:       &http.Client{Transport: policy.Transport()},
		policy:      policy,
		pace:        newPacer(cp.RateLimits),
		pollTimeout: 30 * time.Second,
		progress:    map[string]partial{},
		replies:     make(chan botReply, maxReplies),
		waiting:     map[int64]int{},
		helped:      lastDone{},
	}, nil
}

// Name implements transports.Transport.
func (t *Transport) Name() string { return t.name }

// Accounts implements transports.Transport. Chats are linked one by one
// (see StaticLinks), so there are no accounts.
func (t *Transport) Accounts() map[string]transports.Addr { return nil }

// StaticLinks implements transports.Linker: the chats of the config.
func (t *Transport) StaticLinks() map[transports.Addr]string { return t.static }

// LinkHelp implements transports.Linker.
func (t *Transport) LinkHelp(code string) string {
	return fmt.Sprintf("To link a Telegram chat, send /link %s to %s in that chat (for a group, add the bot to it first).",
		code, t.botRef())
}

// botRef names the bot for help texts.
func (t *Transport) botRef() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.botName == "" {
		return "the gateway's bot"
	}
	return "@" + t.botName
}
