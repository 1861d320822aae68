package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"xmppgw/configs"
	"xmppgw/internal/gwtest"
	"xmppgw/mapping"
)

// The address book's import reads vCard 3 and 4 cards' numbers as the SMS
// transport does (its default region for national numbers), names them by
// FN or N, says what it skipped, and lists the config's names beside the
// imported ones.
func TestContactsCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gw.db")
	cfg := &gwtest.Config{XMPP: gwtest.XMPP{Server: "127.0.0.1:5347"}, Store: gwtest.Store{Path: db},
		HTTP:     gwtest.HTTP{Listen: "127.0.0.1:0", PublicURL: "https://gw.example.com"},
		Access:   gwtest.Access{Allow: []string{"example.com"}},
		Contacts: map[string]string{"+15550009999": "Walter Skinner"},
		Transports: []gwtest.Transport{gwtest.SMSTransport("0123456789abcdef", gwtest.SMS{AccountSID: "AC0123",
			AuthToken: "secrettoken42", DefaultRegion: "US"})}}
	path := filepath.Join(dir, "gw.yaml")
	if err := cfg.Write(path); err != nil {
		t.Fatal(err)
	}
	// The store the gateway made when it first ran.
	made, err := mapping.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	made.Close()
	vcf := filepath.Join(dir, "team.vcf")
	os.WriteFile(vcf, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana Scully\r\nN:Scully;Dana;;;\r\nTEL;TYPE=CELL:+1 555 765 4321\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:4.0\r\nN:Mulder;Fox;;;\r\nTEL;VALUE=uri;TYPE=cell:tel:+1-555-000-2222\r\nTEL;TYPE=work:(555) 000-3333\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No Phone\r\nEMAIL:np@example.com\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad Number\r\nTEL:12\r\nEND:VCARD\r\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"contacts", "import", "-config", path, vcf}, &out, &errb); code != exitOK {
		t.Fatalf("import: exit %d: %s", code, errb.String())
	}
	if want := "imported 3 numbers from " + vcf + `; skipped: No Phone has no phone number; Bad Number: sms: "12" is not a valid phone number (too short)` + "\n"; out.String() != want {
		t.Errorf("import said %q\nwant %q", out.String(), want)
	}
	store, err := mapping.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	names, err := store.Contacts().Names(context.Background())
	store.Close()
	if want := map[string]string{"+15557654321": "Dana Scully", "+15550002222": "Fox Mulder", "+15550003333": "Fox Mulder"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("stored %v %v, want %v", names, err, want)
	}
	out.Reset()
	if code := run(context.Background(), []string{"contacts", "list", "-config", path}, &out, &errb); code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errb.String())
	}
	want := "KEY           NAME            FROM\n+15550009999  Walter Skinner  config\n+15550002222  Fox Mulder      imported\n+15550003333  Fox Mulder      imported\n+15557654321  Dana Scully     imported\n"
	if out.String() != want {
		t.Errorf("list:\n%s\nwant\n%s", out.String(), want)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"contacts", "import", "-config", path, filepath.Join(dir, "none.vcf")}, &out, &errb); code != exitUsage {
		t.Errorf("a missing file: exit %d: %s", code, errb.String())
	}
}

// Two contacts keys that check takes as two JIDs but the transport reads
// as one contact (a national number and the same number in international
// form) are refused when run starts, the later naming the first and its
// line: the address book would keep either name.
func TestRunRefusesTwoKeysForOneContact(t *testing.T) {
	path := runConfig(t, filepath.Join(t.TempDir(), "gw.db"), `contacts:
  "+15557654321@sms.example.com": Dana Scully
  "5557654321@sms.example.com": Fox Mulder
`)
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	select {
	case <-ready:
		cancel()
		<-done
		t.Fatal("run started with two names for +15557654321")
	case err := <-done:
		want := path + `:23: contacts.5557654321@sms.example.com: the same contact as "+15557654321@sms.example.com" (line 22)`
		if err == nil || err.Error() != want {
			t.Errorf("run stopped with %v\nwant %s", err, want)
		}
	}
}
