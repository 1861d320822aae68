package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkBase is a valid config with one twilio transport; the tests below
// edit or extend it.
const checkBase = `xmpp:
  server: 127.0.0.1:5347
http:
  listen: 127.0.0.1:8080
  public_url: https://gw.example.com
access:
  allow: [example.com]
transports:
  - name: sms
    type: twilio
    domain: sms.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok3n
      numbers:
        alice@example.com: "+15550001111"
`

// checkConfig runs `xmppgw check` on yaml, written to a file called name,
// and returns its exit code and output.
func checkConfig(t *testing.T, name, yaml string) (int, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check", "-config", f}, &out, &errb)
	return code, out.String() + errb.String()
}

// wantCheckProblems checks that `xmppgw check` refuses yaml (exit 2)
// listing each of want, and that its output quotes none of secrets.
func wantCheckProblems(t *testing.T, yaml string, want []string, secrets ...string) {
	t.Helper()
	code, out := checkConfig(t, "gw.yaml", yaml)
	if code != exitUsage {
		t.Errorf("check exits %d, want %d: %s", code, exitUsage, strings.TrimSpace(out))
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("check's output lacks %q:\n%s", w, out)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("check's output quotes the secret %q:\n%s", s, out)
		}
	}
}

// retry_for and media.url_ttl take their defaults only when absent: a 0s
// written in the file is out of their ranges (1s..168h, 1h..8784h).
func TestCheckZeroDurations(t *testing.T) {
	y := strings.Replace(checkBase, "    secret: sms-component-secret\n", "    secret: sms-component-secret\n    retry_for: 0s\n", 1) +
		"media:\n  url_ttl: 0s\n"
	wantCheckProblems(t, y, []string{
		"gw.yaml:13: transports[0].retry_for: must be between 1s and 168h",
		"gw.yaml:20: media.url_ttl: must be between 1h and 8784h",
	})
	if code, out := checkConfig(t, "gw.yaml", checkBase); code != exitOK {
		t.Errorf("check exits %d for the base config: %s", code, out)
	}
}

// check parses a PostgreSQL dsn as run's store does: what run would
// refuse, check refuses, without quoting the password.
func TestCheckDSNAsRunParsesIt(t *testing.T) {
	for dsn, want := range map[string]string{
		`postgres://xmppgw:pw-secret-5@127.0.0.1:5432/xmppgw?sslmode=bogus`:               "gw.yaml:5: store.dsn: does not parse: failed to configure TLS (sslmode is invalid)",
		`"host=127.0.0.1 dbname=xmppgw connect_timeout=abc password=pw-secret-5"`:         `gw.yaml:5: store.dsn: does not parse: invalid connect_timeout`,
		`"host=127.0.0.1 target_session_attrs=pw-secret-5 password=pw-secret-5 dbname=x"`: "gw.yaml:5: store.dsn: does not parse (pgx's reason would quote it",
	} {
		y := strings.Replace(checkBase, "http:", "store:\n  driver: postgres\n  dsn: "+dsn+"\nhttp:", 1)
		wantCheckProblems(t, y, []string{want}, "pw-secret-5")
	}
}

// Users given a number, an inbox or a chat in the config must be allowed
// by access.allow, as the admin command and `xmppgw links add` require.
func TestCheckConfigUsersOutsideAccessAllow(t *testing.T) {
	sms := strings.Replace(checkBase, "alice@example.com:", "mallory@evil.test:", 1) + `      inboxes:
        - number: "+15550009999"
          room: support
          members: [alice@example.com, eve@evil.test]
`
	wantCheckProblems(t, sms, []string{
		"gw.yaml:17: transports[0].settings.numbers.mallory@evil.test: mallory@evil.test is not allowed by access.allow",
		"transports[0].settings.inboxes[0].members[1]: eve@evil.test is not allowed by access.allow",
	})
	tg := checkBase + `  - name: tg
    type: telegram
    domain: tg.example.com
    secret: tg-component-secret
    settings:
      token: "123456:abcdef"
      chats:
        "111": mallory@evil.test
`
	wantCheckProblems(t, tg, []string{
		"gw.yaml:25: transports[1].settings.chats.111: mallory@evil.test is not allowed by access.allow",
	})
}

// One sender number on two twilio transports: the provider calls one
// webhook for it, so replies would reach one transport's user. Refused,
// naming the other transport, for a user's number and an inbox's.
func TestCheckNumberOnTwoTransports(t *testing.T) {
	y := checkBase + `  - name: sms2
    type: twilio
    domain: sms2.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok3n
      numbers:
        bob@example.com: "+1 555 000 1111"
  - name: sms3
    type: twilio
    domain: sms3.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok3n
      inboxes:
        - number: "+15550001111"
          room: support
          members: [bob@example.com]
`
	wantCheckProblems(t, y, []string{
		`gw.yaml:26: transports[1].settings.numbers.bob@example.com: "+1 555 000 1111" is already alice@example.com's number on transport sms`,
		`gw.yaml:35: transports[2].settings.inboxes[0].number: "+15550001111" is already alice@example.com's number on transport sms`,
	}, "tok3n")
}

// A number from the environment is quoted by the checks of one number
// twice (two users, a user and an inbox, two transports) as its config
// text, the one of the line the problem is at: not normalised, which for a
// national number whose trunk prefix is not 0 (Russia's 8) shares no run
// of digits with the value. A value quoted trimmed is hidden too.
func TestCheckHidesNationalNumbersFromEnv(t *testing.T) {
	t.Setenv("NUM1", "8 912 345-67-89")
	t.Setenv("NUM2", "8 912 345-67-89")
	t.Setenv("NUM3", "  555-1234  ")
	ru := strings.Replace(checkBase, "      numbers:\n        alice@example.com: \"+15550001111\"\n",
		"      default_region: RU\n      numbers:\n        alice@example.com: \"${NUM1}\"\n", 1)
	hidden := []string{"9123456789", "912 345", "555-1234"}
	wantCheckProblems(t, ru+`        carol@example.com: "${NUM2}"
        dave@example.com: "${NUM3}"
`, []string{
		`gw.yaml:19: transports[0].settings.numbers.carol@example.com: "${NUM2}" is already the number of alice@example.com`,
		`gw.yaml:20: transports[0].settings.numbers.dave@example.com: "${NUM3}" is not a phone number`,
	}, hidden...)
	wantCheckProblems(t, ru+`      inboxes:
        - number: "${NUM2}"
          room: support
          members: [bob@example.com]
`, []string{
		`gw.yaml:20: transports[0].settings.inboxes[0].number: "${NUM2}" is the number of alice@example.com; an inbox's number is the inbox's alone`,
	}, hidden...)
	wantCheckProblems(t, ru+`  - name: sms2
    type: twilio
    domain: sms2.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok3n
      default_region: RU
      numbers:
        bob@example.com: "${NUM2}"
`, []string{
		`gw.yaml:28: transports[1].settings.numbers.bob@example.com: "${NUM2}" is already alice@example.com's number on transport sms`,
	}, hidden...)
}

// One bot token on two telegram transports: both would poll its updates
// (each confirming the other's), or replace each other's webhook.
// Refused, naming the other transport, without quoting the token.
func TestCheckBotTokenOnTwoTransports(t *testing.T) {
	y := checkBase + `  - name: tg1
    type: telegram
    domain: tg1.example.com
    secret: tg-component-secret
    settings:
      token: "123456:abcdef"
  - name: tg2
    type: telegram
    domain: tg2.example.com
    secret: tg-component-secret
    settings:
      token: "123456:abcdef"
`
	wantCheckProblems(t, y, []string{
		"gw.yaml:29: transports[2].settings.token: this bot token is already in use on transport tg1",
	}, "123456:abcdef")
}

// README: expanded variables never appear in error messages. An admin
// from the environment is quoted by the access.allow check, and a number
// from the environment written with spaces and punctuation is quoted
// normalised (+15550001111), which is not the value, by the checks of two
// users with one number and of a number on two transports: each problem
// shows the config text instead.
func TestCheckHidesExpandedValues(t *testing.T) {
	t.Setenv("NUM", "+1 (555) 000-1111")
	t.Setenv("ADMIN", "hidden-admin@other.org")
	y := strings.Replace(checkBase, "access:\n", "admins: [\"${ADMIN}\"]\naccess:\n", 1) + `        carol@example.com: "${NUM}"
`
	wantCheckProblems(t, y, []string{
		`gw.yaml:6: admins[0]: "${ADMIN}" is not covered by access.allow`,
		`gw.yaml:19: transports[0].settings.numbers.carol@example.com: "${NUM}" is already the number of alice@example.com`,
	}, "hidden-admin", "5550001111", "555) 000")
	y = checkBase + `  - name: sms2
    type: twilio
    domain: sms2.example.com
    secret: sms-component-secret
    settings:
      account_sid: AC123
      auth_token: tok3n
      numbers:
        bob@example.com: "${NUM}"
`
	wantCheckProblems(t, y, []string{
		`gw.yaml:26: transports[1].settings.numbers.bob@example.com: "${NUM}" is already alice@example.com's number on transport sms`,
	}, "5550001111", "555) 000")
}
