package sms

import (
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"xmppgw/transports"
)

// Defaults filled in by Validate.
const (
	DefaultAPIURL = "https://api.twilio.com"
	DefaultRegion = "US"
)

// credential is what twilio-go accepts as account SID and auth token; it
// refuses anything else before sending a request.
var credential = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// Settings is the settings block of a "twilio" transport.
//
//	account_sid: AC0123...       # required
//	auth_token: 0123...          # required; also signs webhooks
//	api_url: https://api.twilio.com  # or a Twilio-compatible endpoint
//	default_region: US           # for numbers written without "+"
//	numbers:                     # bare JID -> the number it sends from
//	  alice@example.com: "+15551234567"
//	rate_limits:                 # optional; these are the defaults
//	  number_per_second: 1       # Twilio's rate for a US long code
//	  total_per_second: 100
//	  user_per_hour: 200         # abuse guard: SMS one user may send an hour; 0 is no limit
//	reconcile: list              # list (default) or resend: see Reconcile
type Settings struct {
	AccountSID    string            `yaml:"account_sid"`
	AuthToken     string            `yaml:"auth_token"`
	APIURL        string            `yaml:"api_url"`
	DefaultRegion string            `yaml:"default_region"`
	Numbers       map[string]string `yaml:"numbers"`
	RateLimits    RateLimits        `yaml:"rate_limits"`
	// Inboxes are shared numbers whose texts a room of members reads and
	// answers (see transports.Inboxes).
	Inboxes []InboxSettings `yaml:"inboxes"`
	// Reconcile says what settles a send of unknown outcome (a timeout, a
	// 5xx) before it is tried again: ReconcileList (the default) looks for
	// it in the provider's messages and falls back to sending again if the
	// provider cannot list them; ReconcileResend never lists and sends
	// again, at least once (a possible duplicate, logged and counted).
	Reconcile string `yaml:"reconcile"`
}

// InboxSettings is a team inbox: the room ROOM@ the transport's domain
// holds the texts to Number, for Members.
type InboxSettings struct {
	Number  string   `yaml:"number"`
	Room    string   `yaml:"room"`
	Members []string `yaml:"members"`
}

// roomName is an inbox room's local part: a short name that is no number.
// It starts with a letter, as no SMS sender's address does (a number's
// starts with "+", a short code's with a digit, any other sender's with
// senderMark: see sender.go), so that no sender's contact JID, case-folded,
// is a room's. Keep the two rules so (TestNoSenderIsARoom).
var roomName = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,63}$`)

// Values of Settings.Reconcile.
const (
	ReconcileList   = "list"
	ReconcileResend = "resend"
)

// RateLimits pace sends and cap what one user may send.
type RateLimits struct {
	NumberPerSecond float64 `yaml:"number_per_second"`
	TotalPerSecond  float64 `yaml:"total_per_second"`
	UserPerHour     *int    `yaml:"user_per_hour"` // nil: the default; 0: no limit
}

// Default rate limits: Twilio's published rate for a long code, and a
// conservative per-user cap.
const (
	DefaultNumberPerSecond = 1
	DefaultTotalPerSecond  = 100
	DefaultUserPerHour     = 200
	// minPerSecond is the least rate a limit may set: below it, messages
	// would wait for days.
	minPerSecond = 1.0 / 3600
)

var _ transports.Settings = (*Settings)(nil)

var _ transports.UserJIDs = (*Settings)(nil)

// UserJIDs implements transports.UserJIDs: the numbers' owners and the
// inboxes' members.
func (s *Settings) UserJIDs() map[string]string {
	// As Validate reads them (it keeps them so only if all is well).
	out := map[string]string{}
	for k := range s.Numbers {
		out["numbers."+k] = strings.ToLower(strings.TrimSpace(k))
	}
	for i, box := range s.Inboxes {
		for k, m := range box.Members {
			out[fmt.Sprintf("inboxes[%d].members[%d]", i, k)] = strings.ToLower(strings.TrimSpace(m))
		}
	}
	return out
}

var _ transports.Claims = (*Settings)(nil)

// Claims implements transports.Claims: each sender number and inbox number
// is one transport's, or replies to it would reach the wrong user.
func (s *Settings) Claims() []transports.Claim {
	var out []transports.Claim
	for _, user := range slices.Sorted(maps.Keys(s.Numbers)) {
		num := s.Numbers[user]
		out = append(out, transports.Claim{Key: "numbers." + user, ID: "twilio number " + num, Use: user + "'s number"})
	}
	for i, box := range s.Inboxes {
		out = append(out, transports.Claim{Key: fmt.Sprintf("inboxes[%d].number", i), ID: "twilio number " + box.Number,
			Use: "inbox " + box.Room + "'s number"})
	}
	return out
}

// Validate fills in defaults, normalises numbers to E.164 and JIDs to lower
// case, and reports every problem. Problems never quote the auth token.
// It is idempotent.
func (s *Settings) Validate() []transports.Problem {
	var probs []transports.Problem
	add := func(key, format string, args ...any) {
		probs = append(probs, transports.Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	for _, c := range []struct{ key, val string }{
		{"account_sid", s.AccountSID},
		{"auth_token", s.AuthToken},
	} {
		switch {
		case c.val == "":
			add(c.key, "is required")
		case !credential.MatchString(c.val):
			add(c.key, "must contain only letters and digits")
		}
	}

	if msg := transports.SettleAPIURL(&s.APIURL, DefaultAPIURL); msg != "" {
		add("api_url", "%s", msg)
	}

	if s.DefaultRegion == "" {
		s.DefaultRegion = DefaultRegion
	}
	region := strings.ToUpper(s.DefaultRegion)
	if phonenumbers.GetSupportedRegions()[region] {
		s.DefaultRegion = region
	} else {
		add("default_region", "unknown region code %q (want an ISO 3166 code such as \"US\")", s.DefaultRegion)
		region = "" // numbers must then carry a country code
	}

	keys := make([]string, 0, len(s.Numbers))
	for k := range s.Numbers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	norm := make(map[string]string, len(s.Numbers))
	owner := map[string]string{} // number -> first JID with it
	for _, k := range keys {
		key := "numbers." + k
		jid := strings.ToLower(strings.TrimSpace(k))
		if !transports.IsBareJID(jid) {
			add(key, "%q is not a bare JID (want user@domain)", k)
			continue
		}
		if _, dup := norm[jid]; dup {
			add(key, "duplicates another entry for %s", jid)
			continue
		}
		num, msg := ownNumber(s.Numbers[k], region)
		if msg != "" {
			add(key, "%s", msg)
			continue
		}
		if other, taken := owner[num]; taken {
			// Inbound messages to the number could not be routed. The
			// number is quoted as written: the config replaces a value
			// from the environment with its text, which it cannot do
			// with the normalised form.
			add(key, "%q is already the number of %s", s.Numbers[k], other)
			continue
		}
		owner[num] = jid
		norm[jid] = num
	}
	if len(probs) == 0 && s.Numbers != nil {
		s.Numbers = norm
	}
	rooms := map[string]bool{}
	for i := range s.Inboxes {
		box := &s.Inboxes[i]
		key := fmt.Sprintf("inboxes[%d]", i)
		num, msg := ownNumber(box.Number, region)
		switch {
		case msg != "":
			add(key+".number", "%s", msg)
		case owner[num] != "":
			add(key+".number", "%q is the number of %s; an inbox's number is the inbox's alone", box.Number, owner[num])
		default:
			box.Number = num
			owner[num] = "inbox " + box.Room
		}
		box.Room = strings.ToLower(strings.TrimSpace(box.Room))
		switch {
		case !roomName.MatchString(box.Room):
			add(key+".room", "%q is not a room name (a letter, then letters, digits, '.', '_' or '-'; at most 64)", box.Room)
		case rooms[box.Room]:
			add(key+".room", "%q is the room of another inbox", box.Room)
		}
		rooms[box.Room] = true
		if len(box.Members) == 0 {
			add(key+".members", "at least one member (a bare JID) is required")
		}
		for k, m := range box.Members {
			m = strings.ToLower(strings.TrimSpace(m))
			if !transports.IsBareJID(m) {
				add(fmt.Sprintf("%s.members[%d]", key, k), "%q is not a bare JID (want user@domain)", box.Members[k])
				continue
			}
			box.Members[k] = m
		}
	}
	r := &s.RateLimits
	for _, l := range []struct {
		key string
		v   *float64
		def float64
	}{
		{"rate_limits.number_per_second", &r.NumberPerSecond, DefaultNumberPerSecond},
		{"rate_limits.total_per_second", &r.TotalPerSecond, DefaultTotalPerSecond},
	} {
		switch {
		case *l.v < 0:
			add(l.key, "must be positive")
		case *l.v == 0:
			*l.v = l.def
		case *l.v < minPerSecond:
			add(l.key, "must be at least 1/3600 (a message an hour), or 0 for the default")
		}
	}
	switch {
	case r.UserPerHour == nil:
		n := DefaultUserPerHour
		r.UserPerHour = &n
	case *r.UserPerHour < 0:
		add("rate_limits.user_per_hour", "must be 0 (no limit) or more")
	}
	switch s.Reconcile {
	case "":
		s.Reconcile = ReconcileList
	case ReconcileList, ReconcileResend:
	default:
		add("reconcile", "%q is not list or resend (list: look for a send of unknown outcome in the provider's messages before sending again; resend: send again without looking)", s.Reconcile)
	}
	return probs
}

// String describes s without the auth token, so that printing settings by
// mistake leaks nothing.
func (s Settings) String() string {
	return fmt.Sprintf("{account_sid:%s auth_token:%s api_url:%s default_region:%s numbers:%v reconcile:%s}",
		s.AccountSID, transports.Redacted(s.AuthToken), s.APIURL, s.DefaultRegion, s.Numbers, s.Reconcile)
}

// GoString is String, for %#v.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps the auth token out of logs.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account_sid", s.AccountSID),
		slog.String("auth_token", transports.Redacted(s.AuthToken)),
		slog.String("api_url", s.APIURL),
		slog.String("default_region", s.DefaultRegion),
		slog.Int("numbers", len(s.Numbers)),
		slog.String("reconcile", s.Reconcile),
	)
}

// ownNumber reads a number the gateway sends from (numbers:, an inbox's
// number) by ParseAddr's rule: 3 to 8 digits alone are a short code, kept
// as written (an SMS to it comes with that To); 3 to 8 digits with
// punctuation are refused; anything else is a phone number.
func ownNumber(s, region string) (num, problem string) {
	s = strings.TrimSpace(s)
	if isShortCode(s) {
		return s, ""
	}
	if d := shortDigits(s); d >= 3 && d <= 8 {
		return "", fmt.Sprintf("%q is not a phone number: a short code is written as its digits alone, "+
			"a national number of up to 8 digits with its \"+\" and country code", s)
	}
	return parseNumber(s, region)
}
