package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xmppgw/mapping"
)

// A transport's domain changed while stanzas wait for XMPP from the old
// one (the server would refuse them, and they would hold up the rest):
// run refuses to start, naming both domains and what to do. Once nothing
// waits, it starts, records the new domain and warns; a store that never
// recorded one takes the config's silently.
func TestRunDomainChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	kv := store.KV("sms#core")
	if err := kv.Set(ctx, domainKey, "old.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ToXMPP().Accept(ctx, "sms", "in:SM1", []byte(`<message from="+15557654321@old.example.com" to="alice@example.com"><body>hi</body></message>`)); err != nil {
		t.Fatal(err)
	}
	store.Close()

	var out, errb bytes.Buffer
	if code := run(ctx, []string{"run", "-config", path}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "transport sms ("+path+":11): domain sms.example.com, was old.example.com, with 1 stanzas waiting for XMPP from old.example.com") ||
		!strings.Contains(errb.String(), "run once more with the old domain") {
		t.Fatalf("run with a stanza from the old domain: exit %d, want %d naming both domains: %s", code, exitFailure, errb.String())
	}

	store, err = mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.ToXMPP().Pending(ctx, "sms", 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %v, %v", pending, err)
	}
	if err := store.ToXMPP().Written(ctx, "sms", pending[0].ID); err != nil { // delivered under the old domain
		t.Fatal(err)
	}
	store.Close()
	var logb bytes.Buffer
	_, stop := serveLogging(t, path, &logb)
	stop()
	if log := logb.String(); !strings.Contains(log, `level=WARN msg="transport domain changed`) || !strings.Contains(log, "domain=sms.example.com was=old.example.com") {
		t.Errorf("no warning of the change:\n%s", log)
	}
}

// A first start records the domain it started with, the one stanzas are
// written under, without a warning; not as the one that connected, which
// only a component session records.
func TestRunDomainRecorded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "gw.db")
	var logb bytes.Buffer
	_, stop := serveLogging(t, runConfig(t, db, ""), &logb)
	stop()
	if strings.Contains(logb.String(), "domain changed") {
		t.Errorf("a warning for a first start:\n%s", logb.String())
	}
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	kv := coreKV(store, "sms")
	if d, err := kv.Get(ctx, queuedDomainKey); err != nil || d != "sms.example.com" {
		t.Errorf("recorded start domain %q, %v; want sms.example.com", d, err)
	}
	if d, err := kv.Get(ctx, domainKey); err != nil || d != "" {
		t.Errorf("recorded connected domain %q, %v; want none: xmpp.server never answered", d, err)
	}
}
