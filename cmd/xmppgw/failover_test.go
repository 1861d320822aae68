//go:build integration

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	_ "github.com/jackc/pgx/v5/stdlib" // to end a lock session

	"xmppgw/configs"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/logbuf"
	"xmppgw/internal/pgtest"
	"xmppgw/internal/xmpptest"
	"xmppgw/mapping"
)

// failoverTakeover bounds how long the standby may take to become active
// after the active instance dies (the requirement).
const failoverTakeover = 10 * time.Second

// pair is two gateway processes on one PostgreSQL store, a active and b a
// standby, with Twilio answering 503 until down is cleared.
type pair struct {
	ctx   context.Context
	dsn   string
	p     *xmpptest.Prosody
	tw    *twiliofake.Fake
	down  atomic.Bool
	a, b  *instance
	alice *xmpptest.Client
}

func startPair(t *testing.T) *pair {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	bin := gatewayBinary(t)
	pg := pgtest.StartT(t)
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &pair{ctx: ctx, dsn: dsn}
	g := gwtest.Start(t, gwtest.Options{Users: map[string]string{"alice": "pw"}})
	e.p, e.tw = g.Server.(*xmpptest.Prosody), g.Twilio
	e.down.Store(true)
	e.tw.OnSend(func(twiliofake.Message) *twiliofake.APIError {
		if e.down.Load() {
			return &twiliofake.APIError{Status: 503, Code: 20503, Message: "Service Unavailable"}
		}
		return nil
	})
	e.a = startInstance(t, bin, "a", g, dsn)
	if err := e.a.WaitReady(ctx, e.a.url+"/readyz"); err != nil {
		t.Fatalf("instance a: %v\n%s", err, e.a.logs.String())
	}
	e.b = startInstance(t, bin, "b", g, dsn)
	waitFor(t, ctx, "b to answer as a standby", func() bool {
		code, body := get(e.b.url + "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "standby")
	})
	if code, _ := get(e.b.url + "/hooks/sms/inbound"); code != http.StatusServiceUnavailable {
		t.Errorf("a standby's webhook answered %d, want 503", code)
	}
	t.Logf("a is active, b is a standby (readyz 503 standby)")
	e.alice = xmpptest.DialT(t, e.p.C2SAddr, jid.MustParse("alice@example.test/test"), "pw")
	return e
}

// queue has alice send n pages (first, first+1, ...) and waits until a
// holds them queued.
func (e *pair) queue(t *testing.T, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		msg := fmt.Sprintf(`<message type="chat" id="f%d" to="+15557654321@sms.example.test"><body>page %02d</body></message>`, i, i)
		if err := e.alice.Send(e.ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, e.ctx, "a to queue the messages", func() bool {
		_, body := get(e.a.url + "/metrics")
		return strings.Contains(body, fmt.Sprintf("\nxmppgw_queue_depth{queue=\"out\",transport=\"sms\"} %d\n", first+n))
	})
	t.Logf("a holds %d queued messages (Twilio answers 503)", first+n)
}

// takeover waits for b to become ready, checking the bound from since.
func (e *pair) takeover(t *testing.T, since time.Time) {
	t.Helper()
	waitFor(t, e.ctx, "b to become ready", func() bool {
		code, _ := get(e.b.url + "/readyz")
		return code == http.StatusOK
	})
	took := time.Since(since)
	t.Logf("b ready %v after a stopped being active", took.Round(time.Millisecond))
	if took > failoverTakeover {
		t.Errorf("takeover took %v, want at most %v", took, failoverTakeover)
	}
}

// delivered lets Twilio take messages again and checks that it gets pages
// 0..n-1, each once, in order.
func (e *pair) delivered(t *testing.T, n int) {
	t.Helper()
	e.down.Store(false)
	if _, err := e.tw.Wait(e.ctx, n); err != nil {
		t.Fatalf("sent after takeover: %v (%d messages)", err, len(e.tw.Messages()))
	}
	time.Sleep(time.Second) // a duplicate would show up by now
	msgs := e.tw.Messages()
	if len(msgs) != n {
		t.Errorf("Twilio got %d messages, want %d (none twice)", len(msgs), n)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("page %02d", i); i < n && m.Body != want {
			t.Errorf("message %d = %q, want %q (in order)", i, m.Body, want)
		}
	}
	t.Logf("b sent %d/%d queued messages, each once, in order", len(msgs), n)
	for _, l := range strings.Split(e.b.logs.String(), "\n") {
		if strings.Contains(l, "standby") || strings.Contains(l, "took over") {
			t.Logf("b: %s", l)
		}
	}
}

// TestFailover kills the active instance with SIGKILL while it holds
// queued messages: the standby must take over within 10 s and send every
// one of them once, in order.
func TestFailover(t *testing.T) {
	e := startPair(t)
	const n = 20
	e.queue(t, 0, n)
	t.Logf("killing a with SIGKILL")
	e.a.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-e.a.Exited()
	e.takeover(t, killed)
	e.delivered(t, n)
}

// TestFailoverLostLock ends the active instance's lock session in
// PostgreSQL (as a database failover or a network cut would) while the
// process lives on: it must exit by itself, and the standby take over and
// send what was queued, once.
func TestFailoverLostLock(t *testing.T) {
	e := startPair(t)
	const n = 10
	e.queue(t, 0, n)
	db, err := sql.Open("pgx", e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ended int
	err = db.QueryRowContext(e.ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted`).Scan(&ended)
	if err != nil || ended != 1 {
		t.Fatalf("ending the lock session: %d sessions, %v", ended, err)
	}
	cut := time.Now()
	t.Logf("ended a's lock session with pg_terminate_backend")
	select {
	case <-e.a.Exited():
	case <-time.After(failoverTakeover):
		t.Fatalf("a still runs %v after losing its lock", failoverTakeover)
	}
	if code := e.a.ExitCode(); code != exitFailure || !strings.Contains(e.a.logs.String(), "lost the store's active lock") {
		t.Errorf("a exited with %d; log:\n%s", code, tail(e.a.logs.String(), 2000))
	}
	t.Logf("a exited with status %d %v after losing its lock", e.a.ExitCode(), time.Since(cut).Round(time.Millisecond))
	e.takeover(t, cut)
	e.delivered(t, n)
}

// instance is one gateway process of a failover pair.
type instance struct {
	*gwtest.Process
	url  string
	logs *logbuf.Buffer
}

// startInstance starts a gateway process on g's Config with the SMS
// transport only, the PostgreSQL store at dsn, and an HTTP port of its own.
func startInstance(t *testing.T, bin, name string, g *gwtest.Env, dsn string) *instance {
	t.Helper()
	port, err := xmpptest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := *g.Config
	cfg.Store = gwtest.Store{Driver: "postgres", DSN: dsn}
	cfg.HTTP = gwtest.HTTP{Listen: fmt.Sprintf("127.0.0.1:%d", port), PublicURL: url}
	sms := *g.SMS()
	sms.RateLimits = &gwtest.SMSRates{NumberPerSecond: 1000, UserPerHour: gwtest.NoLimit}
	cfg.Transports = []gwtest.Transport{gwtest.SMSTransport(gwtest.ComponentKey, sms)}
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := cfg.Write(path); err != nil {
		t.Fatal(err)
	}
	in := &instance{url: url, logs: &logbuf.Buffer{}}
	if in.Process, err = gwtest.Exec(bin, path, in.logs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Stop(syscall.SIGTERM, 20*time.Second)
		if t.Failed() {
			t.Logf("instance %s log:\n%s", name, tail(in.logs.String(), 4000))
		}
	})
	return in
}

func get(url string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// waitFor polls ok every 50 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pgConfig is runConfig with the PostgreSQL store at dsn.
func pgConfig(t *testing.T, dsn, extra string) string {
	t.Helper()
	path := runConfig(t, "unused.db", extra)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "store:\n  path: unused.db\n", fmt.Sprintf("store:\n  driver: postgres\n  dsn: %q\n", dsn), 1)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// On PostgreSQL drop-transport -yes is refused while an instance leads
// the store (holding the leader lock it tries for, without waiting), and
// deletes once none does.
func TestStoreDropTransportPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.Database(t)
	path := pgConfig(t, dsn, "")
	active, err := mapping.Open(ctx, mapping.DriverPostgres, "", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer active.Close()
	if err := active.Links().AddLink(ctx, "old", "111", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	_, release, err := active.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", "old"}, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "another xmppgw runs on this store") || out.Len() != 0 {
		t.Errorf("drop-transport -yes beside an active instance: exit %d, want %d refused: %s%s", code, exitFailure, out.String(), errb.String())
	}
	if n, err := active.CountTransport(ctx, "old"); err != nil || n.Links != 1 {
		t.Errorf("after the refusal, old has %+v (%v), want its link", n, err)
	}
	release()
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"store", "drop-transport", "-config", path, "-yes", "old"}, &out, &errb); code != exitOK ||
		out.String() != "deleted under transport old: 0 jobs for the provider, 0 stanzas for XMPP, 1 links, 0 other rows\n" {
		t.Errorf("drop-transport -yes with no instance running: exit %d: %q %s", code, out.String(), errb.String())
	}
}

// On PostgreSQL a standby does not judge the rows of the active instance
// (whose config may differ during a rolling change): it waits as a
// standby, and runs the stranded check once it becomes active, refusing
// then if messages wait under a name its config lacks.
func TestStandbyChecksStrandedOnceActive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.Database(t)
	path := pgConfig(t, dsn, "")
	active, err := mapping.Open(ctx, mapping.DriverPostgres, "", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer active.Close()
	// The active instance's transport is still called old-sms.
	if _, _, err := active.Jobs().Enqueue(ctx, mapping.Job{Transport: "old-sms", Sender: "alice@example.com/pc",
		Account: "+15550001111", Remote: "+15557654321", Body: "hi", StanzaID: "s1"}); err != nil {
		t.Fatal(err)
	}
	_, release, err := active.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(sctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("a standby stopped at start: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("a standby stopped while another instance was active: %v", err)
	case <-time.After(2 * time.Second):
	}
	release()
	took := time.Now()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `"old-sms" (1 jobs for the provider, 0 stanzas for XMPP)`) {
			t.Errorf("once active: %v, want the refusal naming old-sms", err)
		}
		t.Logf("refused %v after taking over", time.Since(took).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("no refusal 30 s after the active instance stopped")
	}
}
