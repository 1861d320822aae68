package configs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"xmppgw/transports"
)

// testSettings are the settings of the test-only transport type "testtype".
type testSettings struct {
	Token   string            `yaml:"token"`
	Numbers map[string]string `yaml:"numbers"`
	Count   int               `yaml:"count"`
}

func (s *testSettings) Validate() []transports.Problem {
	var ps []transports.Problem
	switch {
	case s.Token == "":
		ps = append(ps, transports.Problem{Key: "token", Msg: "is required"})
	case strings.HasPrefix(s.Token, "bad"):
		// Quotes the value, as a careless transport might.
		ps = append(ps, transports.Problem{Key: "token", Msg: fmt.Sprintf("%q is malformed", s.Token)})
	case strings.HasPrefix(s.Token, "Folded"):
		// Quotes the value normalised, as a JID's check does.
		ps = append(ps, transports.Problem{Key: "token", Msg: fmt.Sprintf("%q is not canonical", strings.ToLower(s.Token))})
	}
	for _, user := range slices.Sorted(maps.Keys(s.Numbers)) {
		if !strings.HasPrefix(s.Numbers[user], "+") {
			ps = append(ps, transports.Problem{Key: "numbers." + user, Msg: "must start with +"})
		}
	}
	return ps
}

// UserJIDs names the numbers' owners, as the twilio type's settings do.
func (s *testSettings) UserJIDs() map[string]string {
	out := map[string]string{}
	for user := range s.Numbers {
		out["numbers."+user] = user
	}
	return out
}

// Claims claims each number, as the twilio type's settings do.
func (s *testSettings) Claims() []transports.Claim {
	var out []transports.Claim
	for _, user := range slices.Sorted(maps.Keys(s.Numbers)) {
		out = append(out, transports.Claim{Key: "numbers." + user, ID: "number " + s.Numbers[user], Use: user + "'s number"})
	}
	return out
}

// twilioSettings stands in for the real twilio type's settings, so that
// example.yaml can be checked without importing transports/sms.
type twilioSettings struct {
	AccountSID    string            `yaml:"account_sid"`
	AuthToken     string            `yaml:"auth_token"`
	APIURL        string            `yaml:"api_url"`
	DefaultRegion string            `yaml:"default_region"`
	Numbers       map[string]string `yaml:"numbers"`
}

func (s *twilioSettings) Validate() []transports.Problem { return nil }

// telegramSettings stands in for the real telegram type's settings.
type telegramSettings struct {
	Token         string            `yaml:"token"`
	APIURL        string            `yaml:"api_url"`
	Mode          string            `yaml:"mode"`
	WebhookSecret string            `yaml:"webhook_secret"`
	Chats         map[string]string `yaml:"chats"`
}

func (s *telegramSettings) Validate() []transports.Problem { return nil }

func init() {
	noNew := func(transports.Params, transports.Settings) (transports.Transport, error) {
		return nil, errors.New("test type")
	}
	transports.Register(transports.Type{
		Name:        "testtype",
		NewSettings: func() transports.Settings { return &testSettings{} },
		New:         noNew,
	})
	transports.Register(transports.Type{
		Name:        "telegram",
		NewSettings: func() transports.Settings { return &telegramSettings{} },
		New:         noNew,
	})
	transports.Register(transports.Type{
		Name:        "twilio",
		NewSettings: func() transports.Settings { return &twilioSettings{} },
		New:         noNew,
	})
}
