package gwtest

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is the gateway's YAML configuration (configs.Config), as a test
// writes it: keys it leaves zero are left out, so the gateway's defaults
// apply.
type Config struct {
	XMPP       XMPP              `yaml:"xmpp"`
	Store      Store             `yaml:"store"`
	HTTP       HTTP              `yaml:"http"`
	Access     Access            `yaml:"access,omitempty"`
	Admins     []string          `yaml:"admins,omitempty"`
	Log        *Log              `yaml:"log,omitempty"`
	Media      *Media            `yaml:"media,omitempty"`
	Alerts     *Alerts           `yaml:"alerts,omitempty"`
	Transports []Transport       `yaml:"transports"`
	Contacts   map[string]string `yaml:"contacts,omitempty"`
}

type XMPP struct {
	Server string `yaml:"server"`
}

type Store struct {
	Driver string `yaml:"driver,omitempty"`
	Path   string `yaml:"path,omitempty"`
	DSN    string `yaml:"dsn,omitempty"`
}

type HTTP struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
}

type Access struct {
	Allow []string `yaml:"allow,flow"`
}

type Log struct {
	Level string `yaml:"level,omitempty"`
}

type Media struct {
	FetchAllow []string `yaml:"fetch_allow,flow"`
}

type Alerts struct {
	Token           string  `yaml:"token"`
	From            string  `yaml:"from"`
	AlertmanagerURL string  `yaml:"alertmanager_url,omitempty"`
	Routes          []Route `yaml:"routes"`
}

type Route struct {
	Match    map[string]string `yaml:"match,omitempty,flow"`
	To       []string          `yaml:"to,flow"`
	Escalate []Escalation      `yaml:"escalate,omitempty"`
}

// Escalation is a route's escalation step; After is a duration ("5m").
type Escalation struct {
	After string   `yaml:"after"`
	To    []string `yaml:"to,flow"`
}

// Transport is one transport; Settings is an SMS or a Telegram.
type Transport struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	Domain   string `yaml:"domain"`
	Secret   string `yaml:"secret"`
	Settings any    `yaml:"settings"`
}

// SMS is the settings of a twilio transport.
type SMS struct {
	AccountSID    string            `yaml:"account_sid"`
	AuthToken     string            `yaml:"auth_token"`
	APIURL        string            `yaml:"api_url,omitempty"`
	DefaultRegion string            `yaml:"default_region,omitempty"`
	Numbers       map[string]string `yaml:"numbers,omitempty"`
	RateLimits    *SMSRates         `yaml:"rate_limits,omitempty,flow"`
	Reconcile     string            `yaml:"reconcile,omitempty"`
	Inboxes       []Inbox           `yaml:"inboxes,omitempty"`
}

// Inbox is a twilio transport's team inbox.
type Inbox struct {
	Number  string   `yaml:"number"`
	Room    string   `yaml:"room"`
	Members []string `yaml:"members,flow"`
}

// SMSRates are a twilio transport's rate_limits; UserPerHour nil is the
// default, 0 no limit.
type SMSRates struct {
	NumberPerSecond float64 `yaml:"number_per_second,omitempty"`
	TotalPerSecond  float64 `yaml:"total_per_second,omitempty"`
	UserPerHour     *int    `yaml:"user_per_hour,omitempty"`
}

// Telegram is the settings of a telegram transport.
type Telegram struct {
	Token         string            `yaml:"token"`
	APIURL        string            `yaml:"api_url,omitempty"`
	Mode          string            `yaml:"mode,omitempty"`
	WebhookSecret string            `yaml:"webhook_secret,omitempty"`
	RateLimits    *TelegramRates    `yaml:"rate_limits,omitempty,flow"`
	Chats         map[string]string `yaml:"chats,omitempty"`
}

// TelegramRates are a telegram transport's rate_limits.
type TelegramRates struct {
	ChatPerSecond  float64 `yaml:"chat_per_second,omitempty"`
	GroupPerMinute float64 `yaml:"group_per_minute,omitempty"`
	TotalPerSecond float64 `yaml:"total_per_second,omitempty"`
}

// TelegramUser is the settings of a telegram-user transport.
type TelegramUser struct {
	APIID      int      `yaml:"api_id"`
	APIHash    string   `yaml:"api_hash"`
	SessionKey string   `yaml:"session_key"`
	Server     *MTProto `yaml:"server,omitempty"`
}

// MTProto is a telegram-user transport's test server.
type MTProto struct {
	Address   string `yaml:"address"`
	DC        int    `yaml:"dc,omitempty"`
	PublicKey string `yaml:"public_key"`
}

// NoLimit is UserPerHour's "no limit".
var NoLimit = new(int)

// SMSTransport is the transport named sms on sms.example.test.
func SMSTransport(secret string, s SMS) Transport {
	return Transport{Name: "sms", Type: "twilio", Domain: "sms.example.test", Secret: secret, Settings: s}
}

// TelegramTransport is the transport named telegram on
// telegram.example.test.
func TelegramTransport(secret string, s Telegram) Transport {
	return Transport{Name: "telegram", Type: "telegram", Domain: "telegram.example.test", Secret: secret, Settings: s}
}

// TelegramUserTransport is the transport named tg on tg.example.test.
func TelegramUserTransport(secret string, s TelegramUser) Transport {
	return Transport{Name: "tg", Type: "telegram-user", Domain: "tg.example.test", Secret: secret, Settings: s}
}

// YAML is c as the gateway reads it.
func (c *Config) YAML() ([]byte, error) {
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("gwtest: %w", err)
	}
	return b, nil
}

// Write writes c to path, readable by its owner only.
func (c *Config) Write(path string) error {
	b, err := c.YAML()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
