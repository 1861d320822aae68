package telegramuser

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/logbuf"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// barringSink is a sink that allows every user but barred
// (transports.Access).
type barringSink struct {
	*transporttest.Sink
	barred string
}

func (s barringSink) Allowed(user string) bool { return user != s.barred }

// A user the operator took out of access.allow keeps their stored session,
// but it is not resumed at the next start: the log names the user and
// how to clean up, the user has no account (so nothing is relayed), and
// may still log out, which deletes the session.
func TestSessionOfUserNotAllowedNotResumed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	stop()

	var logs logbuf.Buffer
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: e.kv,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, e.s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stopRun := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, barringSink{Sink: &transporttest.Sink{}, barred: testUser}) }()
	defer func() { stopRun(); <-done }()

	const line = `msg="a stored Telegram session is not resumed: the user is not in access.allow" transport=tg user=alice@example.test`
	waitFor(t, ctx, "neither resumed nor logged", func() bool {
		return strings.Contains(logs.String(), line) || tr.account(testUser) != nil
	})
	if a, ok := tr.Accounts()[testUser]; ok || tr.account(testUser) != nil {
		t.Fatalf("the barred user's session runs: account %q", a)
	}
	if !strings.Contains(logs.String(), `Log out of Telegram`) {
		t.Errorf("the log does not say how to clean up:\n%s", logs.String())
	}
	if err := tr.Logout(ctx, testUser); err != nil {
		t.Fatalf("the barred user cannot log out: %v", err)
	}
	if u, s := mustGet(e.kv, keyUsers), mustGet(e.kv, keySession(testUser)); strings.Contains(u, testUser) || s != "" {
		t.Errorf("after Logout: stored users %s, session %q", u, s)
	}
}
