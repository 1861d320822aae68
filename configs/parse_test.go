package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// base is a valid config; cases edit it with strings.Replace.
const base = `xmpp:
  server: localhost:5347
http:
  listen: 127.0.0.1:0
  public_url: https://gw.example.com/
access:
  allow: [example.com]
transports:
  - name: t1
    type: testtype
    domain: t1.example.com
    secret: ${SECRET}
    settings:
      token: ${TOKEN}
      numbers:
        alice@example.com: "+15550001111"
`

var testEnv = map[string]string{
	"SECRET":     "component-secret-1",
	"TOKEN":      "token-secret-2",
	"BAD_TOKEN":  "bad-token-secret-3",
	"EMPTY":      "",
	"NULL":       "null",
	"PORT":       "5347",
	"LIST":       "[1, 2]",
	"SECRET_URL": "https://user:pw-secret-4@gw.example.com",
}

func lookupTestEnv(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// edit returns base with each pair of old, new strings replaced once.
func edit(pairs ...string) string {
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("edit: not in base: " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		// Syntax and file-level problems.
		{name: "empty file", yaml: "",
			want: []string{
				`gw.yaml: xmpp.server: is required`,
				`gw.yaml: http.listen: is required`,
				`gw.yaml: http.public_url: is required`,
				`gw.yaml: transports: at least one transport is required`,
			}},
		{name: "comments only", yaml: "# nothing\n",
			want: []string{
				`gw.yaml: xmpp.server: is required`,
				`gw.yaml: http.listen: is required`,
				`gw.yaml: http.public_url: is required`,
				`gw.yaml: transports: at least one transport is required`,
			}},
		{name: "syntax error", yaml: edit("  listen: 127.0.0.1:0", "  listen: [127.0.0.1:0"),
			want: []string{
				`gw.yaml:4: did not find expected ',' or ']'`,
			}},
		{name: "${VAR} in a flow mapping on line 1", yaml: "xmpp: {server: ${V}}\n",
			want: []string{
				`gw.yaml:1: did not find expected ',' or '}'`,
			}},
		{name: "bad indentation", yaml: edit("  public_url:", "    public_url:"),
			want: []string{
				`gw.yaml:5: mapping values are not allowed in this context`,
			}},
		{name: "tab", yaml: edit("  listen:", "\tlisten:"),
			want: []string{
				`gw.yaml:4: found character that cannot start any token (YAML indents with spaces, not tabs)`,
			}},
		{name: "control character", yaml: edit("t1.example.com", "t1.example.com\x01"),
			want: []string{
				`gw.yaml:11: control characters are not allowed`,
			}},
		{name: "unknown anchor", yaml: edit("[example.com]", "*nope"),
			want: []string{
				`gw.yaml:7: unknown anchor 'nope' referenced`,
			}},
		{name: "two documents", yaml: base + "---\nxmpp: {}\n",
			want: []string{
				`gw.yaml:18: only one YAML document is allowed`,
			}},
		{name: "not a mapping", yaml: "- xmpp\n",
			want: []string{
				`gw.yaml:1: the file must be a mapping of sections (xmpp, http, transports, ...)`,
			}},
		{name: "no transports", yaml: edit("transports:", "transports: []\nx:"),
			want: []string{
				`gw.yaml:8: transports: at least one transport is required`,
				`gw.yaml:9: unknown key "x"`,
			}},

		// Unknown and repeated keys.
		{name: "unknown key with hint", yaml: edit("  server:", "  sever:"),
			want: []string{
				`gw.yaml:1: xmpp.server: is required`,
				`gw.yaml:2: xmpp: unknown key "sever" (did you mean "server"?)`,
			}},
		{name: "unknown top-level key", yaml: "stuff: 1\n" + base,
			want: []string{
				`gw.yaml:1: unknown key "stuff"`,
			}},
		{name: "unknown key in transport", yaml: edit("    domain:", "    domian:"),
			want: []string{
				`gw.yaml:9: transports[0].domain: is required`,
				`gw.yaml:11: transports[0]: unknown key "domian" (did you mean "domain"?)`,
			}},
		{name: "unknown settings key", yaml: edit("      token:", "      tokn:"),
			want: []string{
				`gw.yaml:13: transports[0].settings.token: is required`,
				`gw.yaml:14: transports[0].settings: unknown key "tokn" (did you mean "token"?)`,
			}},
		{name: "repeated key", yaml: edit("http:\n", "http:\n  listen: :80\n"),
			want: []string{
				`gw.yaml:5: http: key "listen" is repeated (first on line 4)`,
			}},

		// Type mismatches.
		{name: "list for string", yaml: edit("localhost:5347", "[a, b]"),
			want: []string{
				`gw.yaml:2: xmpp.server: expected a string, got a list`,
			}},
		{name: "mapping for list", yaml: edit("[example.com]", "{example.com: yes}"),
			want: []string{
				`gw.yaml:7: access.allow: expected a list, got a mapping`,
			}},
		{name: "string for mapping", yaml: edit("http:\n  listen: 127.0.0.1:0\n  public_url: https://gw.example.com/\n", "http: on\n"),
			want: []string{
				`gw.yaml:3: http: expected a mapping, got "on"`,
			}},
		{name: "mapping for list item string", yaml: edit("[example.com]", "[{a: b}]"),
			want: []string{
				`gw.yaml:7: access.allow[0]: expected a string, got a mapping`,
			}},
		{name: "list in settings map", yaml: edit(`        alice@example.com: "+15550001111"`, "        alice@example.com: [1]"),
			want: []string{
				`gw.yaml:16: transports[0].settings.numbers.alice@example.com: expected a string, got a list`,
			}},
		{name: "scalar for settings", yaml: edit("    settings:\n", "    settings: 3\n    x:\n"),
			want: []string{
				`gw.yaml:13: transports[0].settings: expected a mapping, got "3"`,
				`gw.yaml:14: transports[0]: unknown key "x"`,
			}},
		{name: "a key without its space: the value after the colon is not shown", yaml: edit("    settings:\n", "    settings:\n      auth_token:0123456789abcdef0123456789abcdef\n    x:\n"),
			want: []string{
				`gw.yaml:14: transports[0].settings: expected a mapping, got "auth_token:…" (is a space missing after the colon?)`,
				`gw.yaml:15: transports[0]: unknown key "x"`,
			}},
		{name: "scalar for transport", yaml: edit("transports:\n", "transports:\n  - sms\n"),
			want: []string{
				`gw.yaml:9: transports[0]: expected a mapping, got "sms"`,
			}},

		// Missing required keys.
		{name: "missing section", yaml: edit("xmpp:\n  server: localhost:5347\n", ""),
			want: []string{
				`gw.yaml:1: xmpp.server: is required`,
			}},
		{name: "missing transport keys", yaml: edit("    type: testtype\n    domain: t1.example.com\n    secret: ${SECRET}\n", "    type: testtype\n"),
			want: []string{
				`gw.yaml:9: transports[0].domain: is required`,
				`gw.yaml:9: transports[0].secret: is required`,
			}},
		{name: "empty values", yaml: edit("localhost:5347", `""`, "name: t1", "name:", "secret: ${SECRET}", "secret: ${EMPTY}"),
			want: []string{
				`gw.yaml:2: xmpp.server: must not be empty`,
				`gw.yaml:9: transports[0].name: must not be empty`,
				`gw.yaml:12: transports[0].secret: must not be empty`,
			}},
		{name: "missing settings", yaml: edit("    settings:\n      token: ${TOKEN}\n      numbers:\n        alice@example.com: \"+15550001111\"\n", ""),
			want: []string{
				`gw.yaml:9: transports[0].settings.token: is required`,
			}},
		{name: "settings problem from Validate", yaml: edit("token: ${TOKEN}", "token:", `"+15550001111"`, "15550001111"),
			want: []string{
				`gw.yaml:14: transports[0].settings.token: is required`,
				`gw.yaml:16: transports[0].settings.numbers.alice@example.com: must start with +`,
			}},

		// Bad values.
		{name: "host:port", yaml: edit("localhost:5347", "localhost", "127.0.0.1:0", "127.0.0.1:70000"),
			want: []string{
				`gw.yaml:2: xmpp.server: must be host:port`,
				`gw.yaml:4: http.listen: the port must be a number from 0 to 65535`,
			}},
		{name: "ops_listen", yaml: edit("127.0.0.1:0", "127.0.0.1:8080\n  ops_listen: 127.0.0.1:8080"),
			want: []string{
				`gw.yaml:5: http.ops_listen: takes the port of http.listen (line 4) on the same address: give it another port (an empty host, 0.0.0.0 and :: are every address; localhost is 127.0.0.1)`,
			}},
		{name: "ops_listen host:port", yaml: edit("127.0.0.1:0", "127.0.0.1:0\n  ops_listen: 9090"),
			want: []string{
				`gw.yaml:5: http.ops_listen: must be host:port`,
			}},
		{name: "server needs a host and a port", yaml: edit("localhost:5347", ":5347"),
			want: []string{
				`gw.yaml:2: xmpp.server: the host is missing; write host:port`,
			}},
		{name: "public_url scheme", yaml: edit("https://gw.example.com/", "ftp://gw.example.com"),
			want: []string{
				`gw.yaml:5: http.public_url: must be an absolute http or https URL`,
			}},
		{name: "public_url query", yaml: edit("https://gw.example.com/", "https://gw.example.com/?a=b"),
			want: []string{
				`gw.yaml:5: http.public_url: must not have a query`,
			}},
		{name: "public_url relative", yaml: edit("https://gw.example.com/", "/hooks"),
			want: []string{
				`gw.yaml:5: http.public_url: must be an absolute http or https URL`,
			}},
		{name: "store driver", yaml: "store:\n  driver: mysql\n" + base,
			want: []string{
				`gw.yaml:2: store.driver: unknown driver "mysql"; use "sqlite" or "postgres"`,
			}},
		{name: "log level and format", yaml: "log:\n  level: LOUD\n  format: xml\n" + base,
			want: []string{
				`gw.yaml:2: log.level: unknown level "LOUD"; use debug, info, warn or error`,
				`gw.yaml:3: log.format: unknown format "xml"; use text or json`,
			}},
		{name: "allow entries", yaml: edit("[example.com]", "[example.com, ops@other.org/phone, 'a b@c', '']"),
			want: []string{
				`gw.yaml:7: access.allow[1]: must be a domain or a bare JID, without a /resource`,
				`gw.yaml:7: access.allow[2]: "a b@c" is not a domain or a bare JID`,
				`gw.yaml:7: access.allow[3]: "" is not a domain or a bare JID`,
			}},
		{name: "admins not covered by access.allow", yaml: edit("access:\n", "admins: [ops@other.org, bob@example.com, 'Ops@Other.Org']\naccess:\n"),
			want: []string{
				`gw.yaml:6: admins[0]: "ops@other.org" is not covered by access.allow; add it (or its domain) there, or remove it here`,
				`gw.yaml:6: admins[2]: "Ops@Other.Org" is not covered by access.allow; add it (or its domain) there, or remove it here`,
			}},
		{name: "transport name and type", yaml: edit("name: t1", "name: T1", "type: testtype", "type: testtyp"),
			want: []string{
				`gw.yaml:9: transports[0].name: must be lower-case letters, digits, '-' and '_', starting with a letter or digit`,
				`gw.yaml:10: transports[0].type: unknown type "testtyp" (did you mean "testtype"?); known types: telegram, testtype, twilio`,
			}},
		{name: "retry_for out of range", yaml: edit("    secret: ${SECRET}\n", "    secret: ${SECRET}\n    retry_for: 500ms\n"),
			want: []string{`gw.yaml:13: transports[0].retry_for: must be between 1s and 168h (leave it out for the default, 10m)`}},
		{name: "a user outside access.allow", yaml: edit(`alice@example.com: "+15550001111"`, `mallory@evil.test: "+15550001111"`),
			want: []string{`gw.yaml:16: transports[0].settings.numbers.mallory@evil.test: mallory@evil.test is not allowed by access.allow`}},
		{name: "a user allowed by JID, another not by domain", yaml: edit("allow: [example.com]", "allow: [ops@other.org]",
			`alice@example.com: "+15550001111"`, `alice@example.com: "+15550001111"`+"\n        ops@other.org: \"+15550002222\""),
			want: []string{`gw.yaml:16: transports[0].settings.numbers.alice@example.com: alice@example.com is not allowed by access.allow`}},
		{name: "a number claimed by two transports", yaml: base + `  - name: t2
    type: testtype
    domain: t2.example.com
    secret: ${SECRET}
    settings:
      token: ${TOKEN}
      numbers:
        bob@example.com: "+15550001111"
`,
			want: []string{
				`gw.yaml:24: transports[1].settings.numbers.bob@example.com: "+15550001111" is already alice@example.com's number on transport t1`,
			}},
		{name: "retry_for zero: only an absent retry_for takes the default", yaml: edit("    secret: ${SECRET}\n", "    secret: ${SECRET}\n    retry_for: 0s\n"),
			want: []string{`gw.yaml:13: transports[0].retry_for: must be between 1s and 168h (leave it out for the default, 10m)`}},
		{name: "unknown type without hint", yaml: edit("type: testtype", "type: matrix"),
			want: []string{
				`gw.yaml:10: transports[0].type: unknown type "matrix"; known types: telegram, testtype, twilio`,
			}},
		{name: "transport domain", yaml: edit("domain: t1.example.com", "domain: bot@t1.example.com"),
			want: []string{
				`gw.yaml:11: transports[0].domain: must be a domain only, without "@" or "/"`,
			}},
		{name: "duplicate name and domain", yaml: base + "  - {name: t1, type: testtype, domain: T1.Example.com., secret: 0123456789abcdef, settings: {token: x}}\n",
			want: []string{
				`gw.yaml:17: transports[1].name: same name as transports[0] (line 9)`,
				`gw.yaml:17: transports[1].domain: same domain as transports[0] (line 9)`,
			}},

		// Environment.
		{name: "unset variables", yaml: edit("secret: ${SECRET}", "secret: ${SMS_COMPONENT_SECRET}", "token: ${TOKEN}", "token: ${A}-${B}-${A}"),
			want: []string{
				`gw.yaml:12: transports[0].secret: environment variable SMS_COMPONENT_SECRET is not set`,
				`gw.yaml:14: transports[0].settings.token: environment variable A is not set`,
				`gw.yaml:14: transports[0].settings.token: environment variable B is not set`,
			}},
		{name: "malformed references", yaml: edit("secret: ${SECRET}", "secret: ${SECRET", "token: ${TOKEN}", "token: ${1X}"),
			want: []string{
				`gw.yaml:12: transports[0].secret: "${" without a closing "}" (write "$$" for a literal "$")`,
				`gw.yaml:14: transports[0].settings.token: invalid environment variable name "1X" in ${...}`,
			}},
		{name: "unset variable in a list", yaml: edit("[example.com]", "[example.com, '${NOPE}']"),
			want: []string{
				`gw.yaml:7: access.allow[1]: environment variable NOPE is not set`,
			}},
		{name: "expanded value is not quoted", yaml: edit("localhost:5347", "${SECRET}", "127.0.0.1:0", "${TOKEN}"),
			want: []string{
				`gw.yaml:2: xmpp.server: must be host:port`,
				`gw.yaml:4: http.listen: must be host:port`,
			}},
		{name: "expanded value quoted by Validate is hidden", yaml: edit("token: ${TOKEN}", "token: ${BAD_TOKEN}"),
			want: []string{
				`gw.yaml:14: transports[0].settings.token: "${BAD_TOKEN}" is malformed`,
			}},
		{name: "expanded value keeps its type", yaml: edit("[example.com]", "${LIST}"),
			want: []string{
				`gw.yaml:7: access.allow: expected a list, got "${LIST}"`,
			}},
		{name: "expanded url with password", yaml: edit("https://gw.example.com/", "${SECRET_URL}"),
			want: []string{
				`gw.yaml:5: http.public_url: must not contain a user name or password`,
			}},

		// Several problems at once, sorted by line.
		{name: "many problems", yaml: "log: {level: loud}\n" + edit("  server:", "  sever:", "name: t1", "name: 'x y'", "type: testtype", "type: nope", "secret: ${SECRET}", "secret: ${NOPE}"),
			want: []string{
				`gw.yaml:1: log.level: unknown level "loud"; use debug, info, warn or error`,
				`gw.yaml:2: xmpp.server: is required`,
				`gw.yaml:3: xmpp: unknown key "sever" (did you mean "server"?)`,
				`gw.yaml:10: transports[0].name: must be lower-case letters, digits, '-' and '_', starting with a letter or digit`,
				`gw.yaml:11: transports[0].type: unknown type "nope"; known types: telegram, testtype, twilio`,
				`gw.yaml:13: transports[0].secret: environment variable NOPE is not set`,
			}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.name), func(t *testing.T) {
			cfg, err := Parse("gw.yaml", []byte(tt.yaml), lookupTestEnv)
			if err != nil && cfg != nil {
				t.Errorf("got a config and an error")
			}
			got := problemsOf(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got problems\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			// Values from the environment are never shown.
			for _, p := range got {
				for _, v := range testEnv {
					if strings.Contains(v, "secret") && strings.Contains(p, v) {
						t.Errorf("problem shows secret %q: %s", v, p)
					}
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	exampleEnv := map[string]string{
		"SMS_COMPONENT_SECRET": "s1-component-secret",
		"TWILIO_ACCOUNT_SID":   "AC00",
		"TWILIO_AUTH_TOKEN":    "t0",
		"TG_COMPONENT_SECRET":  "s2-component-secret",
		"TELEGRAM_BOT_TOKEN":   "1:tok",
	}
	tests := []struct {
		name  string
		file  string
		yaml  string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{name: "example", file: "example.yaml", yaml: string(Example), env: exampleEnv, check: func(t *testing.T, c *Config) {
			want := Config{
				File:   "example.yaml",
				XMPP:   XMPP{Server: "127.0.0.1:5347"},
				Store:  Store{Driver: "sqlite", Path: "data/xmppgw.db"},
				HTTP:   HTTP{Listen: "127.0.0.1:8080", PublicURL: "https://gw.example.com", OpsListen: "127.0.0.1:9090"},
				Access: Access{Allow: []string{"example.com", "ops@other.org"}},
				Admins: []string{"ops@other.org"},
				Log:    Log{Level: "info", Format: "text"},
				Media:  Media{FetchAllow: []string{"upload.example.com:443"}, URLTTL: 30 * 24 * time.Hour},
			}
			got := *c
			got.Transports = nil
			if got.Access.index == nil {
				t.Error("access.allow is not indexed")
			}
			got.Access.index = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			if len(c.Transports) != 2 {
				t.Fatalf("got %d transports, want 2", len(c.Transports))
			}
			tr := c.Transports[0]
			if tr.Name != "sms" || tr.Type != "twilio" || tr.Domain != "sms.example.com" || tr.Secret != "s1-component-secret" || tr.Line != 46 ||
				tr.RetryFor != DefaultRetryFor {
				t.Errorf("got transport %+v", tr)
			}
			wantSettings := &twilioSettings{
				AccountSID: "AC00", AuthToken: "t0", APIURL: "https://api.twilio.com", DefaultRegion: "US",
				Numbers: map[string]string{"alice@example.com": "+15550001111"},
			}
			if !reflect.DeepEqual(tr.Settings, wantSettings) {
				t.Errorf("got settings %+v, want %+v", tr.Settings, wantSettings)
			}
			tg := c.Transports[1]
			wantTG := &telegramSettings{Token: "1:tok", APIURL: "https://api.telegram.org", Mode: "polling",
				Chats: map[string]string{"123456789": "alice@example.com"}}
			if tg.Name != "telegram" || tg.Type != "telegram" || tg.Domain != "telegram.example.com" || tg.Secret != "s2-component-secret" ||
				!reflect.DeepEqual(tg.Settings, wantTG) {
				t.Errorf("got transport %+v, settings %+v", tg, tg.Settings)
			}
		}},
		{name: "defaults and normalisation", yaml: edit("[example.com]", "[Example.COM, Ops@Other.org]", "t1.example.com", "T1.Example.COM."), check: func(t *testing.T, c *Config) {
			if c.Store != (Store{Driver: "sqlite", Path: "data/xmppgw.db"}) || c.Log != (Log{Level: "info", Format: "text"}) {
				t.Errorf("defaults: got %+v %+v", c.Store, c.Log)
			}
			if c.HTTP.PublicURL != "https://gw.example.com" {
				t.Errorf("public_url: got %q", c.HTTP.PublicURL)
			}
			if !reflect.DeepEqual(c.Access.Allow, []string{"example.com", "ops@other.org"}) {
				t.Errorf("allow: got %q", c.Access.Allow)
			}
			if c.Access.index == nil || !c.Allowed("Bob@Example.com") || !c.Allowed("ops@other.org") || c.Allowed("dev@other.org") {
				t.Error("the index of access.allow does not answer as the list says")
			}
			if tr := c.Transports[0]; tr.Domain != "t1.example.com" || tr.Line != 9 || tr.Secret != "component-secret-1" {
				t.Errorf("transport: got %+v", tr)
			}
			s := c.Transports[0].Settings.(*testSettings)
			if s.Token != "token-secret-2" || s.Numbers["alice@example.com"] != "+15550001111" {
				t.Errorf("settings: got %+v", s)
			}
		}},
		{name: "dollars and null", yaml: edit("secret: ${SECRET}", "secret: $${SECRET}$$x$0123", "token: ${TOKEN}", "token: ${NULL}"), check: func(t *testing.T, c *Config) {
			if got := c.Transports[0].Secret; got != "${SECRET}$x$0123" {
				t.Errorf("secret: got %q", got)
			}
			if got := c.Transports[0].Settings.(*testSettings).Token; got != "null" {
				t.Errorf("token: got %q, want the string from the environment", got)
			}
		}},
		{name: "anchors, aliases and merges", yaml: `
xmpp: {server: "localhost:5347"}
http: {listen: ":8080", public_url: "http://gw.example.com/base/"}
access: {allow: []}
transports:
  - &first
    name: a
    type: testtype
    domain: a.example.com
    secret: ${SECRET}
    settings: &settings
      token: x
  - <<: *first
    name: b
    domain: b.example.com
    settings: *settings
`, check: func(t *testing.T, c *Config) {
			if c.HTTP.PublicURL != "http://gw.example.com/base" {
				t.Errorf("public_url: got %q", c.HTTP.PublicURL)
			}
			if len(c.Transports) != 2 {
				t.Fatalf("got %d transports", len(c.Transports))
			}
			b := c.Transports[1]
			if b.Name != "b" || b.Type != "testtype" || b.Secret != "component-secret-1" || b.Line != 13 {
				t.Errorf("merged transport: got %+v", b)
			}
			if b.Settings.(*testSettings).Token != "x" {
				t.Errorf("aliased settings: got %+v", b.Settings)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.name), func(t *testing.T) {
			lookup := lookupTestEnv
			if tt.env != nil {
				lookup = func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			}
			file := tt.file
			if file == "" {
				file = "gw.yaml"
			}
			c, err := Parse(file, []byte(tt.yaml), lookup)
			if err != nil {
				t.Fatalf("unexpected problems:\n%v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestExampleNeedsItsVariables(t *testing.T) {
	_, err := Parse("example.yaml", Example, nil)
	want := []string{
		"example.yaml:49: transports[0].secret: environment variable SMS_COMPONENT_SECRET is not set",
		"example.yaml:52: transports[0].settings.account_sid: environment variable TWILIO_ACCOUNT_SID is not set",
		"example.yaml:53: transports[0].settings.auth_token: environment variable TWILIO_AUTH_TOKEN is not set",
		"example.yaml:62: transports[1].secret: environment variable TG_COMPONENT_SECRET is not set",
		"example.yaml:64: transports[1].settings.token: environment variable TELEGRAM_BOT_TOKEN is not set",
	}
	if got := problemsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
