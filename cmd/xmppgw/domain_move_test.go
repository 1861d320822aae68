package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xmppgw/configs"
	"xmppgw/mapping"
)

// movedStanza is the i-th stanza of testDomainMoveInterrupted, from domain.
func movedStanza(i int, domain string) string {
	return fmt.Sprintf(`<message type="chat" id="m%d" from="+15557654321@%s" to="alice@example.com"><body>%d</body></message>`, i, domain, i)
}

// testDomainMoveInterrupted: the stanzas wait from a domain that never
// connected (typo A); a start with typo B moves them, page by page, and a
// store error (fault: the rows above the first page refuse updates until
// undone; a kill leaves the same) stops it after the first page, leaving
// stanzas from A and from B. B fixed to C, the next start moves all of
// them to C: one left from B would be refused by the server (invalid-from)
// and hold up the rest. path is a runConfig (domain C, sms.example.com).
func testDomainMoveInterrupted(t *testing.T, path string, open func(context.Context) (*mapping.Store, error), fault func(t *testing.T, above int64) (undo func())) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	load := func(domain string) *configs.Config {
		cfg, err := configs.Load(withDomain(t, path, domain))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	typoA, typoB, fixed := load("smss.example.com"), load("smsx.example.com"), load("sms.example.com")
	store, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	discard := slog.New(slog.DiscardHandler)
	if err := checkDomains(ctx, typoA, store, discard); err != nil {
		t.Fatal(err)
	}
	const n = 300 // more than moveWaiting's page of 256
	var stanzas [][]byte
	for i := range n {
		stanzas = append(stanzas, []byte(movedStanza(i, "smss.example.com")))
	}
	if _, err := store.ToXMPP().Accept(ctx, "sms", "", stanzas...); err != nil {
		t.Fatal(err)
	}
	q, err := store.ToXMPP().Pending(ctx, "sms", n)
	if err != nil || len(q) != n {
		t.Fatalf("pending: %d, %v", len(q), err)
	}

	undo := fault(t, q[255].ID)
	if err := checkDomains(ctx, typoB, store, discard); err == nil || !strings.HasPrefix(err.Error(), "store: transport sms: ") {
		t.Fatalf("start with B under the fault: %v; want the store's error", err)
	}
	undo()

	var logb bytes.Buffer
	if err := checkDomains(ctx, fixed, store, slog.New(slog.NewTextHandler(&logb, nil))); err != nil {
		t.Fatalf("start with C: %v", err)
	}
	q, err = store.ToXMPP().Pending(ctx, "sms", n+1)
	if err != nil || len(q) != n {
		t.Fatalf("pending after the fix: %d, %v", len(q), err)
	}
	wrong := 0
	for i, s := range q {
		if want := movedStanza(i, "sms.example.com"); string(s.Stanza) != want {
			if wrong == 0 {
				t.Errorf("stanza %d after the fix:\n%s\nwant\n%s", i, s.Stanza, want)
			}
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d stanzas not from sms.example.com after the fix", wrong, n)
	}
	if want := "transport=sms domain=sms.example.com was=smss.example.com,smsx.example.com stanzas=300"; !strings.Contains(logb.String(), want) {
		t.Errorf("log:\n%s\nwant the move with %s", logb.String(), want)
	}
	kv := coreKV(store, "sms")
	for key, want := range map[string]string{queuedDomainKey: "sms.example.com", movingKey: ""} {
		if got, err := kv.Get(ctx, key); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", key, got, err, want)
		}
	}
}

func TestDomainMoveInterruptedSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	testDomainMoveInterrupted(t, runConfig(t, db, ""),
		func(ctx context.Context) (*mapping.Store, error) { return mapping.OpenSQLite(ctx, db) },
		func(t *testing.T, above int64) func() {
			return execFault(t, "sqlite", "file:"+db,
				fmt.Sprintf(`CREATE TRIGGER fault BEFORE UPDATE ON to_xmpp WHEN OLD.id > %d BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`, above),
				`DROP TRIGGER fault`)
		})
}

// execFault runs install on the database (driver, dsn) and returns a
// function that runs undo.
func execFault(t *testing.T, driver, dsn, install, undo string) func() {
	t.Helper()
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.Exec(install); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := raw.Exec(undo); err != nil {
			t.Fatal(err)
		}
	}
}
