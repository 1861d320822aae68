package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xmppgw/configs"
)

// runConfig writes a config whose store is the SQLite file db, whose
// component server is a closed loopback port (the gateway keeps trying)
// and whose HTTP listener takes any free port, with extra transports
// appended; it returns the file's path.
func runConfig(t *testing.T, db, extra string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "gw.yaml")
	y := `xmpp:
  server: 127.0.0.1:1
store:
  path: ` + db + `
http:
  listen: 127.0.0.1:0
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
      api_url: http://127.0.0.1:1
      numbers:
        alice@example.com: "+15550001111"
` + extra
	if err := os.WriteFile(f, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// startServe runs serve on the config at path until the test ends.
func startServe(t *testing.T, path string) {
	t.Helper()
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve stopped with %v", err)
		}
	})
}

// A second `xmppgw run` on the SQLite file of a running one fails at once,
// naming the lock file, while the shell's commands still work on it.
func TestRunSecondOnOneSQLiteStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	startServe(t, path)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"run", "-config", path}, &out, &errb)
	if code != exitFailure || !strings.Contains(errb.String(), db+".lock") || !strings.Contains(errb.String(), "another xmppgw runs") {
		t.Errorf("second run: exit %d, want %d naming %s.lock: %s", code, exitFailure, db, errb.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second run took %v to fail", d)
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"links", "list", "-config", path}, &out, &errb); code != exitOK {
		t.Errorf("links list beside run: exit %d: %s", code, errb.String())
	}
}
