package telegramuser

import (
	"context"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// A two-step verification password is taken as typed: one with a leading
// or trailing space is not trimmed (the phone and the code are).
func TestLoginPasswordWithSpaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice", Password: " correct horse "})
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	defer stop()
	tr.BeginLogin(ctx, testUser)
	var next *transports.Prompt
	var err error
	waitFor(t, ctx, "the sign-in never started", func() bool {
		next, _, err = tr.LoginAnswer(ctx, testUser, "phone", " +15550001111 ")
		return err == nil
	})
	next, _, err = tr.LoginAnswer(ctx, testUser, "code", " "+e.mt.LastCode("+15550001111")+" ")
	if err != nil || next == nil || next.Field != "password" {
		t.Fatalf("after the code: %+v %v", next, err)
	}
	_, done, err := tr.LoginAnswer(ctx, testUser, "password", " correct horse ")
	if err != nil || done == "" {
		t.Errorf("the right password was refused: %v", err)
	}
}
