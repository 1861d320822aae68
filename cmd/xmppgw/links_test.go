package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xmppgw/mapping"
)

// TestLinksCommand runs `xmppgw links` against a SQLite store, in order.
func TestLinksCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gw.db")
	cfg := filepath.Join(dir, "gw.yaml")
	os.WriteFile(cfg, []byte(`xmpp:
  server: 127.0.0.1:5347
store:
  path: `+db+`
http:
  listen: 127.0.0.1:0
  public_url: https://gw.example.com
access:
  allow: [example.com]
transports:
  - name: sms
    type: twilio
    domain: sms.example.com
    secret: 0123456789abcdef
    settings:
      account_sid: AC0123
      auth_token: secrettoken42
      numbers:
        alice@example.com: "+15550001111"
  - name: telegram
    type: telegram
    domain: telegram.example.com
    secret: 0123456789abcdef
    settings:
      token: "123456:secret-bot-token"
      chats:
        "111": alice@example.com
`), 0o600)
	// The gateway syncs config links into the store when it starts.
	store, err := mapping.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Links().SyncStaticLinks(context.Background(), "telegram", map[string]string{"111": "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// A store path that does not exist is refused, not created.
	var errb bytes.Buffer
	missing := filepath.Join(dir, "other.yaml")
	os.WriteFile(missing, []byte(strings.Replace(mustRead(t, cfg), db, filepath.Join(dir, "nope.db"), 1)), 0o600)
	if code := run(context.Background(), []string{"links", "list", "-config", missing}, io.Discard, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "no store at "+filepath.Join(dir, "nope.db")) {
		t.Errorf("missing store: %d %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.db")); err == nil {
		t.Error("links list created a store")
	}

	steps := []struct {
		args     []string
		code     int
		out, err string // substrings
	}{
		{[]string{"add", "-config", cfg, "telegram", "222", "bob@example.com"}, 0,
			"linked telegram 222 to bob@example.com; the gateway tells bob@example.com and asks for a presence subscription", ""},
		{[]string{"add", "-config", cfg, "telegram", "222", "carol@example.com"}, 1, "", "222 is linked to bob@example.com already; remove that link first"},
		{[]string{"add", "-config", cfg, "sms", "+15557654321", "bob@example.com"}, 2, "", "transport sms has no links"},
		{[]string{"add", "-config", cfg, "irc", "1", "bob@example.com"}, 2, "", `no transport named "irc"; the config has [sms telegram]`},
		{[]string{"add", "-config", cfg, "telegram", "abc", "bob@example.com"}, 2, "", `"abc"`},
		{[]string{"add", "-config", cfg, "telegram", "333", "mallory@evil.test"}, 2, "", "mallory@evil.test is not allowed to use the gateway"},
		{[]string{"add", "-config", cfg, "telegram", "333"}, 2, "", "usage:"},
		{[]string{"list", "-config", cfg}, 0, "TRANSPORT  CONTACT                   USER               NAME  ORIGIN\n" +
			"sms        +15550001111              alice@example.com        config (number)\n" +
			"telegram   111@telegram.example.com  alice@example.com        config\n" +
			"telegram   222@telegram.example.com  bob@example.com          linked\n", ""},
		{[]string{"list", "-config", cfg, "-user", "bob@example.com", "-transport", "telegram"}, 0,
			"TRANSPORT  CONTACT                   USER             NAME  ORIGIN\ntelegram   222@telegram.example.com  bob@example.com        linked\n", ""},
		{[]string{"remove", "-config", cfg, "telegram", "111"}, 1, "", "111 is linked in the config (settings.chats); remove it there"},
		{[]string{"remove", "-config", cfg, "telegram", "222@telegram.example.com"}, 0, "unlinked telegram 222 from bob@example.com; the gateway tells bob@example.com", ""},
		{[]string{"remove", "-config", cfg, "telegram", "222"}, 1, "", "222 is not linked"},
	}
	for i, s := range steps {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"links"}, s.args...), &out, &errb)
		if code != s.code || !strings.Contains(out.String(), s.out) || !strings.Contains(errb.String(), s.err) {
			t.Errorf("%d: links %v = %d\nstdout:\n%s\nstderr:\n%s\nwant %d, stdout with %q, stderr with %q",
				i, s.args, code, out.String(), errb.String(), s.code, s.out, s.err)
		}
	}
	// The same stanzas and notices as the admin command's (package links),
	// queued for the running gateway to write.
	store, err = mapping.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	queued, err := store.ToXMPP().Pending(context.Background(), "telegram", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, q := range queued {
		got.Write(q.Stanza)
		got.WriteString("\n")
	}
	const c, u = `from="222@telegram.example.com" to="bob@example.com"`, `from="telegram.example.com" to="bob@example.com"`
	want := `<presence type="subscribe" ` + c + `></presence>` + "\n" +
		`<message type="chat" ` + u + `><body>An administrator linked Telegram chat 222 to you: it is your contact 222@telegram.example.com.</body></message>` + "\n" +
		`<presence type="unavailable" ` + c + `></presence>` + "\n" +
		`<presence type="unsubscribed" ` + c + `></presence>` + "\n" +
		`<presence type="unsubscribe" ` + c + `></presence>` + "\n" +
		`<message type="chat" ` + u + `><body>Unlinked Telegram chat 222.</body></message>` + "\n"
	if got.String() != want {
		t.Errorf("queued for XMPP:\n%s\nwant\n%s", got.String(), want)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
