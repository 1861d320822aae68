package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/configs"
	"xmppgw/mapping"
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

// startServe runs serve on the config at path until the test ends and
// returns its http.listen address.
func startServe(t *testing.T, path string) string {
	t.Helper()
	addr, _ := serveLogging(t, path, io.Discard)
	return addr
}

// serveLogging runs serve on the config at path, logging to w, and returns
// its http.listen address and a function that stops it and waits for it
// to return (called at the test's end if not before): read what w got only
// after it.
func serveLogging(t *testing.T, path string, w io.Writer) (string, func()) {
	t.Helper()
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(&syncWriter{w: w}, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return addr, stop
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

// A second run, maybe of a newer binary started by hand, is refused before
// it opens the database: it must not bring the schema up to date under
// the running gateway. Here the schema looks one migration behind: a
// second run that migrated would apply it again.
func TestRunSecondDoesNotMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	startServe(t, path)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var version int
	if err := raw.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version-1)); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"run", "-config", path}, &out, &errb); code != exitFailure || !strings.Contains(errb.String(), "another xmppgw runs") {
		t.Errorf("second run: exit %d, want %d refused for the lock: %s", code, exitFailure, errb.String())
	}
	var after int
	if err := raw.QueryRowContext(ctx, "PRAGMA user_version").Scan(&after); err != nil || after != version-1 {
		t.Errorf("after a refused second run the schema version is %d (%v), want %d untouched", after, err, version-1)
	}
}

// Messages queued under a transport name the config no longer has (a
// transport renamed or removed) would never be delivered: run refuses to
// start, naming the name, its counts and the way out; `xmppgw store
// drop-transport` prints what it would delete, and deletes only with -yes.
// Links alone under an unknown name are a warning, not a refusal.
func TestRunStrandedTransportAndStoreDropTransport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"s1", "s2"} {
		if _, _, err := store.Jobs().Enqueue(ctx, mapping.Job{Transport: "old-sms", Sender: "alice@example.com/pc",
			Account: "+15550001111", Remote: "+15557654321", Body: "hi", StanzaID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Links().AddLink(ctx, "gone", "111", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	store.Close()

	var out, errb bytes.Buffer
	reset := func() { out.Reset(); errb.Reset() }
	if code := run(ctx, []string{"run", "-config", path}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), `\"old-sms\" (2 jobs for the provider, 0 stanzas for XMPP)`) ||
		!strings.Contains(errb.String(), "put the transport back under that name") ||
		!strings.Contains(errb.String(), "xmppgw store drop-transport -config "+path+" -yes NAME") ||
		strings.Contains(errb.String(), `\"gone\"`) {
		t.Fatalf("run with messages under old-sms: exit %d, want %d naming old-sms and its 2 jobs, not gone: %s", code, exitFailure, errb.String())
	}

	reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "sms"}, &out, &errb); code != exitUsage ||
		!strings.Contains(errb.String(), "transport sms is in the config") {
		t.Errorf("drop-transport of a configured transport: exit %d, want %d: %s%s", code, exitUsage, out.String(), errb.String())
	}
	reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "old-sms"}, &out, &errb); code != exitOK ||
		out.String() != "would delete under transport old-sms: 2 jobs for the provider, 0 stanzas for XMPP, 0 links, 0 other rows\nrun again with -yes to delete them\n" {
		t.Errorf("drop-transport without -yes: exit %d: %q %s", code, out.String(), errb.String())
	}
	reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", "old-sms"}, &out, &errb); code != exitOK ||
		out.String() != "deleted under transport old-sms: 2 jobs for the provider, 0 stanzas for XMPP, 0 links, 0 other rows\n" {
		t.Errorf("drop-transport -yes: exit %d: %q %s", code, out.String(), errb.String())
	}

	// Now it starts, warning about gone's link.
	var logb bytes.Buffer
	_, stop := serveLogging(t, path, &logb)
	stop()
	if log := logb.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "name=gone links=1") {
		t.Errorf("no warning about the link under gone:\n%s", log)
	}
}

// Rows the gateway writes itself under names that are no transport's (the
// readiness probe's under "", a transport's core state under NAME+"#core")
// are not reported as strangers at start, and drop-transport refuses
// those names.
func TestRunNoStrandedWarningAboutOwnRows(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// What /readyz (CheckWrite) and a telegram-user gateway (loadOwnKey) write.
	if err := store.CheckWrite(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.KV("sms#core").Set(ctx, "own-message-key", "00"); err != nil {
		t.Fatal(err)
	}
	store.Close()

	var logb bytes.Buffer
	_, stop := serveLogging(t, path, &logb)
	stop()
	for _, line := range strings.Split(logb.String(), "\n") {
		if strings.Contains(line, "transport name the config does not have") {
			t.Errorf("a false stranded warning at start: %s", line)
		}
	}

	for _, name := range []string{"", "sms#core"} {
		var out, errb bytes.Buffer
		if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", name}, &out, &errb); code != exitUsage ||
			!strings.Contains(errb.String(), "is not a transport name") {
			t.Errorf("drop-transport %q: exit %d, want %d: %s%s", name, code, exitUsage, out.String(), errb.String())
		}
	}
}

// drop-transport -yes is refused on the store of a running gateway, which
// may still use the name (the operator renamed the transport in the file,
// then dropped the old name before restarting); without -yes it prints.
// Once the gateway has stopped, it deletes.
func TestStoreDropTransportRefusedWhileRunning(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gw.db")
	path := runConfig(t, db, "")
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(sctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}

	shell, err := mapping.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Beside the starting gateway's writes this may meet SQLITE_BUSY at
	// once (busy_timeout notwithstanding): try again.
	for i := 0; ; i++ {
		err := shell.Links().AddLink(ctx, "sms", "+15557654321", "alice@example.com")
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	shell.Close()

	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "- name: sms\n", "- name: sms2\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", "sms"}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "another xmppgw runs") || !strings.Contains(errb.String(), "stop it first") || out.Len() != 0 {
		t.Errorf("drop-transport -yes beside a running gateway: exit %d, want %d refused: %s%s", code, exitFailure, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "sms"}, &out, &errb); code != exitOK ||
		!strings.HasPrefix(out.String(), "would delete under transport sms: 0 jobs for the provider, 0 stanzas for XMPP, 1 links") {
		t.Errorf("drop-transport without -yes beside a running gateway: exit %d: %q %s", code, out.String(), errb.String())
	}

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", "sms"}, &out, &errb); code != exitOK ||
		!strings.HasPrefix(out.String(), "deleted under transport sms: 0 jobs for the provider, 0 stanzas for XMPP, 1 links") {
		t.Errorf("drop-transport -yes once the gateway stopped: exit %d: %q %s", code, out.String(), errb.String())
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
