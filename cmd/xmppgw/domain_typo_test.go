package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/mapping"
)

// withDomain is the config at path with the SMS transport's domain
// sms.example.com replaced by domain, written beside it.
func withDomain(t *testing.T, path, domain string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(out, bytes.Replace(b, []byte("domain: sms.example.com"), []byte("domain: "+domain), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// textIn has the gateway at addr (runConfig's) take a signed inbound SMS
// to alice's number, as Twilio sends it, and checks that it answered 200.
func textIn(t *testing.T, addr, sid, body string) {
	t.Helper()
	form := twiliofake.New("AC123", "tok3n").InboundForm(sid, "+15557654321", "+15550001111", body)
	// serve says it is ready once it listens, a moment before it is the
	// active instance; until then a webhook is refused with 503 (not
	// stored), and sent again here as a retrying sender would.
	for range 100 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/sms/inbound", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twiliofake.Sign("tok3n", "https://gw.example.com/hooks/sms/inbound", form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return
		case http.StatusServiceUnavailable:
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("webhook: %d", resp.StatusCode)
		}
	}
	t.Fatal("webhook: still 503 after 100 tries")
}

// waiting returns the stanzas the store at db holds for XMPP under sms.
func waiting(t *testing.T, db string) []string {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	q, err := store.ToXMPP().Pending(context.Background(), "sms", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range q {
		out = append(out, string(s.Stanza))
	}
	return out
}

// A typo in a transport's domain at the first start: the component never
// connects, yet a text is taken and stored from the typo's domain. With
// the typo fixed, run starts (it does not ask for a run with a domain the
// server never had), moves the waiting stanza to the fixed domain and says
// so; and still nothing records a domain as connected.
func TestRunDomainTypoNeverConnected(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "gw.db")
	good := runConfig(t, db, "")
	addr, stop := serveLogging(t, withDomain(t, good, "smss.example.com"), &bytes.Buffer{})
	textIn(t, addr, "SM0123456789abcdef0123456789abcdef", "hello")
	stop()
	const stored = `<message type="chat" id="SM0123456789abcdef0123456789abcdef" from="+15557654321@%s" to="alice@example.com"><body>hello</body>` +
		`<origin-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef"></origin-id></message>`
	if got := waiting(t, db); len(got) != 1 || got[0] != fmt.Sprintf(stored, "smss.example.com") {
		t.Fatalf("stored with the typo:\n%q\nwant\n%s", got, fmt.Sprintf(stored, "smss.example.com"))
	}

	var logb bytes.Buffer
	_, stop = serveLogging(t, good, &logb)
	stop()
	if got := waiting(t, db); len(got) != 1 || got[0] != fmt.Sprintf(stored, "sms.example.com") {
		t.Errorf("waiting after the fix:\n%q\nwant\n%s", got, fmt.Sprintf(stored, "sms.example.com"))
	}
	want := `level=WARN msg="transport domain changed from one that never connected: the stanzas waiting for XMPP now come from the new domain ` +
		`(the server never routed anything from the old one, so no roster has its JIDs)" transport=sms domain=sms.example.com was=smss.example.com stanzas=1`
	if log := logb.String(); !strings.Contains(log, want) || strings.Contains(log, "rosters keep the old ones") {
		t.Errorf("log\n%s\nwant a line with\n%s\nand no roster warning", log, want)
	}
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if d, err := coreKV(store, "sms").Get(ctx, domainKey); err != nil || d != "" {
		t.Errorf("recorded connected domain %q, %v; want none", d, err)
	}
}

// A typo after the domain connected, fixed back: the stanzas stored under
// the typo move to the domain that connected, and no roster warning is
// logged. A typo that is a domain of users (access.allow's example.com)
// moves only the stanzas' own from: their other JIDs in it are users'.
func TestRunDomainTypoMoved(t *testing.T) {
	tests := []struct {
		connected, typo string
		want            string // the stanza waiting after the fix
	}{
		0: {"sms.example.com", "smss.example.com", `<message type="chat" id="SM0123456789abcdef0123456789abcdef" from="+15557654321@sms.example.com" to="alice@example.com"><body>hello</body><origin-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef"></origin-id></message>`},
		1: {"", "example.com", `<message type="chat" id="SM0123456789abcdef0123456789abcdef" from="+15557654321@sms.example.com" to="alice@example.com"><body>hello</body><origin-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef"></origin-id></message>`},
	}
	for i, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		db := filepath.Join(t.TempDir(), "gw.db")
		good := runConfig(t, db, "")
		if tt.connected != "" {
			store, err := mapping.OpenSQLite(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if err := coreKV(store, "sms").Set(ctx, domainKey, tt.connected); err != nil {
				t.Fatal(err)
			}
			store.Close()
		}
		addr, stop := serveLogging(t, withDomain(t, good, tt.typo), &bytes.Buffer{})
		textIn(t, addr, "SM0123456789abcdef0123456789abcdef", "hello")
		stop()
		var logb bytes.Buffer
		_, stop = serveLogging(t, good, &logb)
		stop()
		cancel()
		if got := waiting(t, db); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%d: waiting after the fix:\n%q\nwant\n%s", i, got, tt.want)
		}
		if log := logb.String(); !strings.Contains(log, "was="+tt.typo+" stanzas=1") || strings.Contains(log, "rosters keep the old ones") {
			t.Errorf("%d: log\n%s\nwant the move from %s and no roster warning", i, log, tt.typo)
		}
	}
}

// A domain that connected keeps its protection: while stanzas wait from
// it, a changed domain refuses to start, and nothing is moved.
func TestRunDomainConnectedRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "gw.db")
	good := runConfig(t, db, "")
	addr, stop := serveLogging(t, good, &bytes.Buffer{})
	textIn(t, addr, "SM0123456789abcdef0123456789abcdef", "hello")
	stop()
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := coreKV(store, "sms").Set(ctx, domainKey, "sms.example.com"); err != nil { // as a session would
		t.Fatal(err)
	}
	store.Close()
	before := waiting(t, db)

	var out, errb bytes.Buffer
	moved := withDomain(t, good, "sms.example.net")
	if code := run(ctx, []string{"run", "-config", moved}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "domain sms.example.net, was sms.example.com, with 1 stanzas waiting for XMPP from sms.example.com") ||
		!strings.Contains(errb.String(), "run once more with the old domain") {
		t.Fatalf("run: exit %d, want %d: %s", code, exitFailure, errb.String())
	}
	if got := waiting(t, db); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("waiting changed:\n%q\nwas\n%q", got, before)
	}
}
