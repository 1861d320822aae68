package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xmppgw/configs"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, configs.Example, 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`xmpp:
  sever: 127.0.0.1:5347
http:
  listen: 127.0.0.1:8080
  public_url: gw.example.com
transports:
  - name: sms
    type: twilio
    domain: sms.example.com
    secret: ${UNSET_SECRET_FOR_TEST}
    settings:
      account_sid: AC123
      auth_token: tok-en
      numbers:
        alice@example.com: "12"
`), 0o600)
	short := filepath.Join(dir, "short.yaml")
	os.WriteFile(short, []byte(`xmpp:
  server: 127.0.0.1:5347
http:
  listen: 127.0.0.1:8080
  public_url: https://gw.example.com
transports:
  - name: tg
    type: telegram
    domain: tg.example.com
    secret: x
    settings:
      token: "123456:secret-bot-token"
      mode: webhook
      webhook_secret: 0123456789abcde
`), 0o600)
	jids := filepath.Join(dir, "jids.yaml")
	os.WriteFile(jids, []byte(`xmpp:
  server: 127.0.0.1:5347
http:
  listen: 127.0.0.1:8080
  public_url: https://gw.example.com
transports:
  - name: sms
    type: twilio
    domain: sms.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok-en
      numbers:
        alice@example.com:5222: "+15550001111"
        ｃarol@example.com: "+15550001113"
        dave@example.com: "+15550001114"
      rate_limits:
        number_per_second: .nan
        total_per_second: 1e-9
        user_per_hour: 1.5
`), 0o600)
	// (The auth token's "tok-en" is a problem of its own there.)
	tgjids := filepath.Join(dir, "tgjids.yaml")
	os.WriteFile(tgjids, []byte(`xmpp:
  server: 127.0.0.1:5347
http:
  listen: 127.0.0.1:8080
  public_url: https://gw.example.com
transports:
  - name: tg
    type: telegram
    domain: tg.example.com
    secret: tg-component-secret
    settings:
      token: "123456:secret-bot-token"
      chats:
        "111": alice@example.com:5222
        "222": ｃarol@example.com
        "333": Bob@Example.com
      rate_limits:
        chat_per_second: 1e-9
        group_per_minute: 0.000001
`), 0o600)
	t.Setenv("SMS_COMPONENT_SECRET", "sms-component-secret")
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123")
	t.Setenv("TWILIO_AUTH_TOKEN", "secrettoken42")
	t.Setenv("TG_COMPONENT_SECRET", "tg-component-secret")
	t.Setenv("TELEGRAM_BOT_TOKEN", "123456:secret-bot-token")

	tests := []struct {
		args     []string
		code     int
		out, err []string // substrings
	}{
		0: {[]string{"version"}, 0, []string{"xmppgw dev"}, nil},
		1: {[]string{"check", "-config", good}, 0, []string{"good.yaml: ok (2 transports)"}, nil},
		2: {[]string{"check", "-config", bad}, 2, nil, []string{
			"bad.yaml:2: xmpp: unknown key \"sever\" (did you mean \"server\"?)",
			"bad.yaml:1: xmpp.server: is required",
			"bad.yaml:5: http.public_url:",
			"bad.yaml:10: transports[0].secret: environment variable UNSET_SECRET_FOR_TEST is not set",
			"bad.yaml:13: transports[0].settings.auth_token:",
			"bad.yaml:15: transports[0].settings.numbers.alice@example.com:",
		}},
		3: {[]string{"check"}, 2, nil, []string{"usage: xmppgw check -config FILE"}},
		4: {[]string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`}},
		5: {[]string{"run", "-config", filepath.Join(dir, "missing.yaml")}, 2, nil, []string{"missing.yaml"}},
		7: {[]string{"check", "-config", jids}, 2, nil, []string{
			`jids.yaml:15: transports[0].settings.numbers.alice@example.com:5222: "alice@example.com:5222" is not a valid JID`,
			`jids.yaml:16: transports[0].settings.numbers.ｃarol@example.com: "ｃarol@example.com" is written differently from how XMPP compares it: write "carol@example.com"`,
			`jids.yaml:19: transports[0].settings.rate_limits.number_per_second: expected a finite number, got ".nan"`,
			`jids.yaml:20: transports[0].settings.rate_limits.total_per_second: must be at least 1/3600 (a message an hour), or 0 for the default`,
			`jids.yaml:21: transports[0].settings.rate_limits.user_per_hour: expected an integer, got "1.5"`,
		}},
		8: {[]string{"check", "-config", tgjids}, 2, nil, []string{
			`tgjids.yaml:14: transports[0].settings.chats.111: "alice@example.com:5222" is not a valid JID`,
			`tgjids.yaml:15: transports[0].settings.chats.222: "ｃarol@example.com" is written differently from how XMPP compares it: write "carol@example.com"`,
			`tgjids.yaml:18: transports[0].settings.rate_limits.chat_per_second: is too low: messages would wait for days (0 for the default)`,
			`tgjids.yaml:19: transports[0].settings.rate_limits.group_per_minute: is too low: messages would wait for days (0 for the default)`,
		}},
		6: {[]string{"check", "-config", short}, 2, nil, []string{
			"short.yaml:10: transports[0].secret: is too short: at least 16 characters",
			"short.yaml:14: transports[0].settings.webhook_secret: is too short: at least 16 characters",
		}},
	}
	for i, tc := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != tc.code {
			t.Errorf("%d: exit %d, want %d; stderr:\n%s", i, code, tc.code, errb.String())
		}
		for _, s := range tc.out {
			if !strings.Contains(out.String(), s) {
				t.Errorf("%d: stdout %q lacks %q", i, out.String(), s)
			}
		}
		for _, s := range tc.err {
			if !strings.Contains(errb.String(), s) {
				t.Errorf("%d: stderr\n%s\nlacks %q", i, errb.String(), s)
			}
		}
		if strings.Contains(out.String()+errb.String(), "secrettoken42") || strings.Contains(errb.String(), "tok-en") ||
			strings.Contains(errb.String(), "0123456789abcde") {
			t.Errorf("%d: a secret was printed", i)
		}
	}
}
