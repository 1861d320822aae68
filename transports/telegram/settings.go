package telegram

import (
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"xmppgw/transports"
)

// Defaults filled in by Validate.
const (
	DefaultAPIURL = "https://api.telegram.org"
	ModePolling   = "polling"
	ModeWebhook   = "webhook"
)

var (
	tokenRE  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`) // Telegram's rule for secret_token
)

// Settings is the settings block of a "telegram" transport.
//
//	token: 123456:ABC...          # from @BotFather; required
//	api_url: https://api.telegram.org  # or a self-hosted Bot API server
//	local_mode: false             # true: api_url is a Bot API server run with --local
//	mode: polling                 # or webhook
//	webhook_secret: ...           # required in webhook mode
//	chats:                        # static links: chat id -> bare JID
//	  "123456789": alice@example.com
//	rate_limits:                  # optional; Telegram's published limits
//	  chat_per_second: 1
//	  group_per_minute: 20
//	  total_per_second: 30
type Settings struct {
	Token  string `yaml:"token"`
	APIURL string `yaml:"api_url"`
	// LocalMode says api_url is a Bot API server run with --local, which
	// lets bots download files of any size (the hosted one: 20 MB).
	LocalMode     bool              `yaml:"local_mode"`
	Mode          string            `yaml:"mode"`
	WebhookSecret string            `yaml:"webhook_secret"`
	Chats         map[string]string `yaml:"chats"`
	RateLimits    RateLimits        `yaml:"rate_limits"`
	// RoomHistory is how many of a group's last messages are kept and
	// replayed when the user joins its room (default 20; 0 keeps none).
	RoomHistory *int `yaml:"room_history"`
}

// Bounds of room_history.
const (
	defaultRoomHistory = 20
	maxRoomHistory     = 500
)

// RateLimits pace what the bot sends; zero values take the defaults.
type RateLimits struct {
	ChatPerSecond  float64 `yaml:"chat_per_second"`
	GroupPerMinute float64 `yaml:"group_per_minute"`
	TotalPerSecond float64 `yaml:"total_per_second"`
}

var _ transports.Settings = (*Settings)(nil)

// minWebhookSecret is the shortest webhook secret accepted: it is all that
// tells Telegram's calls from anyone else's.
const minWebhookSecret = 16

// checkWebhookSecret reports a webhook secret Telegram would refuse, or one
// too short to be hard to guess, without quoting it.
func checkWebhookSecret(secret string, add func(key, format string, args ...any)) {
	switch {
	case !secretRE.MatchString(secret):
		add("webhook_secret", "must be 1-256 letters, digits, _ or -")
	case len(secret) < minWebhookSecret:
		add("webhook_secret", "is too short: at least %d characters (e.g. openssl rand -hex 16)", minWebhookSecret)
	}
}

var _ transports.UserJIDs = (*Settings)(nil)

// UserJIDs implements transports.UserJIDs: the users of the links in chats.
func (s *Settings) UserJIDs() map[string]string {
	out := map[string]string{}
	for k, user := range s.Chats {
		out["chats."+k] = strings.ToLower(strings.TrimSpace(user))
	}
	return out
}

var _ transports.Claims = (*Settings)(nil)

// Claims implements transports.Claims: a bot's token is one transport's,
// or two would poll its updates (each confirming the other's) or replace
// each other's webhook.
func (s *Settings) Claims() []transports.Claim {
	return []transports.Claim{{Key: "token", ID: "telegram bot token " + s.Token, Shown: "this bot token", Use: "in use"}}
}

// Validate fills in defaults, normalises chat ids and JIDs, and reports
// every problem. Problems never quote the token or the webhook secret.
func (s *Settings) Validate() []transports.Problem {
	var probs []transports.Problem
	add := func(key, format string, args ...any) {
		probs = append(probs, transports.Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case s.Token == "":
		add("token", "is required (get one from @BotFather)")
	case !tokenRE.MatchString(s.Token):
		add("token", "is not a bot token (want digits, a colon, then letters, digits, _ or -)")
	}
	if msg := transports.SettleAPIURL(&s.APIURL, DefaultAPIURL); msg != "" {
		add("api_url", "%s", msg)
	} else if u, _ := url.Parse(s.APIURL); s.LocalMode && strings.EqualFold(strings.TrimRight(u.Hostname(), "."), "api.telegram.org") {
		// Telegram's own server however spelled: any case, a trailing dot.
		add("local_mode", "is for a self-hosted Bot API server run with --local, not %s (set api_url to your server)", s.APIURL)
	}
	if s.Mode == "" {
		s.Mode = ModePolling
	}
	switch s.Mode {
	case ModePolling:
		if s.WebhookSecret != "" {
			checkWebhookSecret(s.WebhookSecret, add)
		}
	case ModeWebhook:
		if s.WebhookSecret == "" {
			add("webhook_secret", "is required in webhook mode")
		} else {
			checkWebhookSecret(s.WebhookSecret, add)
		}
	default:
		add("mode", "%q is not a mode (want polling or webhook)", s.Mode)
	}
	norm := make(map[string]string, len(s.Chats))
	for _, k := range slices.Sorted(maps.Keys(s.Chats)) {
		key := "chats." + k
		chat, err := ParseChatID(k)
		if err != nil {
			add(key, "%v", err)
			continue
		}
		if _, dup := norm[chat]; dup {
			add(key, "duplicates chat %s", chat)
			continue
		}
		user := strings.ToLower(strings.TrimSpace(s.Chats[k]))
		if !transports.IsBareJID(user) {
			add(key, "%q is not a bare JID (want user@domain)", s.Chats[k])
			continue
		}
		norm[chat] = user
	}
	if len(probs) == 0 && s.Chats != nil {
		s.Chats = norm
	}
	r := &s.RateLimits
	for _, l := range []struct {
		key string
		v   *float64
		def float64
	}{
		{"rate_limits.chat_per_second", &r.ChatPerSecond, 1},
		{"rate_limits.group_per_minute", &r.GroupPerMinute, 20},
		{"rate_limits.total_per_second", &r.TotalPerSecond, 30},
	} {
		switch {
		case *l.v < 0:
			add(l.key, "must be positive")
		case *l.v == 0:
			*l.v = l.def
		case l.key == "rate_limits.group_per_minute" && *l.v < 1.0/60, l.key != "rate_limits.group_per_minute" && *l.v < 1.0/3600:
			add(l.key, "is too low: messages would wait for days (0 for the default)")
		}
	}
	switch {
	case s.RoomHistory == nil:
		n := defaultRoomHistory
		s.RoomHistory = &n
	case *s.RoomHistory < 0 || *s.RoomHistory > maxRoomHistory:
		add("room_history", "must be from 0 to %d", maxRoomHistory)
	}
	return probs
}

// String describes s without its secrets.
func (s Settings) String() string {
	return fmt.Sprintf("{token:%s api_url:%s local_mode:%v mode:%s webhook_secret:%s chats:%v}",
		transports.Redacted(s.Token), s.APIURL, s.LocalMode, s.Mode, transports.Redacted(s.WebhookSecret), s.Chats)
}

// GoString is String, for %#v.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps secrets out of logs.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", transports.Redacted(s.Token)),
		slog.String("api_url", s.APIURL),
		slog.Bool("local_mode", s.LocalMode),
		slog.String("mode", s.Mode),
		slog.Int("chats", len(s.Chats)),
	)
}
