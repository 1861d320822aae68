package gwtest

import (
	"testing"

	"xmppgw/configs"
	_ "xmppgw/transports/sms"
	_ "xmppgw/transports/telegram"
)

// example is a config with every part a test uses.
func example() *Config {
	return &Config{
		XMPP:   XMPP{Server: "127.0.0.1:5347"},
		Store:  Store{Path: "/tmp/gw.db"},
		HTTP:   HTTP{Listen: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080"},
		Access: Access{Allow: []string{"example.test"}},
		Admins: []string{"bob@example.test"},
		Log:    &Log{Level: "debug"},
		Media:  &Media{FetchAllow: []string{"127.0.0.1/32"}},
		Alerts: &Alerts{Token: "${TEST_ALERTS_TOKEN}", From: "alice@example.test", Routes: []Route{
			{Match: map[string]string{"severity": "critical"}, To: []string{"bob@example.test", "+15551234567@sms.example.test"}},
			{To: []string{"alice@example.test"}},
		}},
		Transports: []Transport{
			SMSTransport("s3cret-s3cret-s3cret", SMS{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef",
				APIURL: "http://127.0.0.1:9000", Numbers: map[string]string{"alice@example.test": "+15550001111"},
				RateLimits: &SMSRates{NumberPerSecond: 50, UserPerHour: NoLimit}}),
			TelegramTransport("s3cret-s3cret-s3cret", Telegram{Token: "7000001:test-bot-token", APIURL: "http://127.0.0.1:9001",
				Mode: "polling", RateLimits: &TelegramRates{ChatPerSecond: 50}, Chats: map[string]string{"111": "alice@example.test"}}),
		},
	}
}

// The YAML of a Config, exactly, with its zero keys left out.
func TestConfigYAML(t *testing.T) {
	got, err := example().YAML()
	if err != nil {
		t.Fatal(err)
	}
	const want = `xmpp:
    server: 127.0.0.1:5347
store:
    path: /tmp/gw.db
http:
    listen: 127.0.0.1:8080
    public_url: http://127.0.0.1:8080
access:
    allow: [example.test]
admins:
    - bob@example.test
log:
    level: debug
media:
    fetch_allow: [127.0.0.1/32]
alerts:
    token: ${TEST_ALERTS_TOKEN}
    from: alice@example.test
    routes:
        - match: {severity: critical}
          to: [bob@example.test, +15551234567@sms.example.test]
        - to: [alice@example.test]
transports:
    - name: sms
      type: twilio
      domain: sms.example.test
      secret: s3cret-s3cret-s3cret
      settings:
        account_sid: AC0123456789abcdef0123456789abcdef
        auth_token: 0123456789abcdef
        api_url: http://127.0.0.1:9000
        numbers:
            alice@example.test: "+15550001111"
        rate_limits: {number_per_second: 50, user_per_hour: 0}
    - name: telegram
      type: telegram
      domain: telegram.example.test
      secret: s3cret-s3cret-s3cret
      settings:
        token: 7000001:test-bot-token
        api_url: http://127.0.0.1:9001
        mode: polling
        rate_limits: {chat_per_second: 50}
        chats:
            "111": alice@example.test
`
	if string(got) != want {
		t.Errorf("YAML:\n%s\nwant\n%s", got, want)
	}
}

// What a Config writes, the gateway's loader takes as written.
func TestConfigLoads(t *testing.T) {
	b, err := example().YAML()
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { return "alerts-token-0123456789abcdef", k == "TEST_ALERTS_TOKEN" }
	c, err := configs.Parse("gw.yaml", b, env)
	if err != nil {
		t.Fatalf("the gateway refuses the config: %v", err)
	}
	if c.XMPP.Server != "127.0.0.1:5347" || c.Store.Path != "/tmp/gw.db" || len(c.Transports) != 2 ||
		c.Transports[1].Domain != "telegram.example.test" || c.Alerts == nil || !c.Allowed("alice@example.test") {
		t.Errorf("loaded %+v", c)
	}
}
