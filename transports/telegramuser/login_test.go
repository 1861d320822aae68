package telegramuser

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

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

// resumeHeld signs testUser in, restarts the transport with Telegram slow
// to answer users.getUsers (as when it is unreachable at start), and
// returns the new transport while its stored session is resuming, with
// the sink, a release of the held calls, and the transport's stop.
func resumeHeld(t *testing.T, ctx context.Context, e *fakeEnv) (tr *Transport, sink *transporttest.Sink, release, stop func()) {
	t.Helper()
	tr, stop = e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	stop()
	release = e.mt.HoldCalls(tg.UsersGetUsersRequestTypeID)
	t.Cleanup(release)
	sink = &transporttest.Sink{}
	tr, stop = e.run(t, ctx, sink)
	waitFor(t, ctx, "no resume", func() bool { return tr.account(testUser) != nil })
	return tr, sink, release, stop
}

// While a stored session resumes, the user counts as logged in: the core
// gets their account (their messages wait for the session, they are not
// refused), a new sign-in is refused, and opening the "Log in" command
// (BeginLogin) does not stop the session being resumed.
func TestLoginDuringResumeKeepsSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	tr, sink, release, stop := resumeHeld(t, ctx, e)
	defer stop()

	account := tr.Accounts()[testUser]
	if account != transports.Addr(strconv.FormatInt(me.ID, 10)) {
		t.Errorf("while the session resumes, Accounts() gives %q (stored users: %s)", account, mustGet(e.kv, keyUsers))
	}
	// A message meanwhile is delayed (a temporary error), not refused.
	_, err := tr.Send(ctx, transports.Outbound{ID: "r1", Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "soon"})
	var te *transports.Error
	if !errors.As(err, &te) || !te.Temporary() {
		t.Errorf("a send while the session resumes: %v, want a temporary error", err)
	}
	// The user opens the command, tries to sign in again, and gives up.
	tr.BeginLogin(ctx, testUser)
	var le *transports.LoginError
	if _, _, err := tr.LoginAnswer(ctx, testUser, "phone", "+15550001111"); !errors.As(err, &le) {
		t.Errorf("a new sign-in while the session resumes: %v, want it refused", err)
	}
	release()
	waitFor(t, ctx, "the stored session never resumed after the user opened the Log in command", func() bool {
		a := tr.account(testUser)
		return a != nil && a.addr() != ""
	})
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "are you there?", 0)
	waitFor(t, ctx, "a contact's message was not relayed", func() bool {
		for _, in := range sink.Inbound() {
			if in.Body == "are you there?" {
				return true
			}
		}
		return false
	})
}

// While a stored session resumes (the user counts as logged in), a room
// join is answered with a temporary error, not "not a member" (which the
// core turns into a permanent refusal); once resumed, the user is a member.
func TestRoomJoinDuringResumeIsTemporary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	group := transports.Addr("-" + strconv.FormatInt(e.mt.AddGroup("Team", me.ID, carol.ID), 10))
	tr, _, release, stop := resumeHeld(t, ctx, e)
	defer stop()
	if _, ok := tr.Accounts()[testUser]; !ok {
		t.Fatal("not logged in while resuming")
	}
	_, ok, err := tr.Member(ctx, testUser, group)
	var te *transports.Error
	if ok || !errors.As(err, &te) || te.Kind != transports.KindUnavailable {
		t.Errorf("Member while the session resumes: %v, %v; want a temporary error", ok, err)
	}
	release()
	waitFor(t, ctx, "the session never resumed", func() bool { a := tr.account(testUser); return a != nil && a.up.Load() })
	if _, ok, err := tr.Member(ctx, testUser, group); !ok || err != nil {
		t.Errorf("Member once resumed: %v, %v", ok, err)
	}
}

// Logging out while a stored session resumes stops the session and
// deletes it (it never comes back), and ends it at Telegram once
// Telegram answers.
func TestLogoutDuringResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	tr, _, release, stop := resumeHeld(t, ctx, e)
	defer stop()

	if err := tr.Logout(ctx, testUser); err != nil {
		t.Fatalf("Logout while the session resumes: %v", err)
	}
	if _, ok := tr.Accounts()[testUser]; ok || tr.account(testUser) != nil {
		t.Error("after Logout the user is still logged in")
	}
	if u, s := mustGet(e.kv, keyUsers), mustGet(e.kv, keySession(testUser)); strings.Contains(u, testUser) || s != "" {
		t.Errorf("after Logout: stored users %s, session %q", u, s)
	}
	release()
	waitFor(t, ctx, "the session was never ended at Telegram", func() bool { return e.mt.Authorized(me.ID) == 0 })
	if _, ok := tr.Accounts()[testUser]; ok || tr.account(testUser) != nil {
		t.Error("the session came back after Logout")
	}
}

// A users list stored before the Telegram ids were kept (a plain list) is
// still read: its users resume, and count as signed in once they have.
func TestStoredUsersListWithoutIDs(t *testing.T) {
	ctx := context.Background()
	tr, _ := offlineAccount(t, ctx)
	tr.p.State.Set(ctx, keyUsers, `["bob@example.test","carol@example.test"]`)
	users, err := tr.loadUsers(ctx, func(string) bool { return true })
	if err != nil || len(users) != 2 || len(tr.Accounts()) != 0 {
		t.Fatalf("users %v, %v; accounts %v", users, err, tr.Accounts())
	}
	if err := tr.setSignedIn(ctx, "bob@example.test", "42"); err != nil {
		t.Fatal(err)
	}
	users, err = tr.loadUsers(ctx, func(string) bool { return true })
	if err != nil || len(users) != 2 || tr.Accounts()["bob@example.test"] != "42" {
		t.Errorf("users %v, %v; accounts %v", users, err, tr.Accounts())
	}
}

// README: "Lose or change the key and every user must log in again." With
// a new session_key the stored session does not open: the user is told,
// counts as logged out, and can log in again (the sign-in takes the
// session that does not open for none).
func TestLoginAgainAfterSessionKeyChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	stop()

	e.s.SessionKey = strings.Repeat("n", 32) // the operator changes the key
	sink := newAccountSink()
	tr, stop = e.run(t, ctx, sink)
	defer stop()
	waitFor(t, ctx, "the user was never told to log in again", func() bool { return len(sink.Notices(testUser)) > 0 })
	if _, ok := tr.Accounts()[testUser]; ok {
		t.Errorf("a session that does not open counts as logged in")
	}
	waitFor(t, ctx, "the session that does not open never stopped", func() bool { return tr.account(testUser) == nil })
	tr.BeginLogin(ctx, testUser)
	actx, acancel := context.WithTimeout(ctx, 15*time.Second) // the ad-hoc command allows 60 s
	defer acancel()
	next, _, err := tr.LoginAnswer(actx, testUser, "phone", "+15550001111")
	if err != nil || next == nil || next.Field != "code" {
		t.Fatalf("after a session_key change, the user cannot log in again: phone answered with %+v, %v", next, err)
	}
	if _, done, err := tr.LoginAnswer(actx, testUser, "code", e.mt.LastCode("+15550001111")); err != nil || done == "" {
		t.Fatalf("code: %v", err)
	}
	waitSignedIn(t, ctx, tr, testUser)
}

// slowNotifySink records a notice, then takes a moment to return (as a
// store write would, or a descheduled goroutine on a loaded machine).
type slowNotifySink struct{ *accountSink }

func (s slowNotifySink) Notify(ctx context.Context, user, text string) error {
	s.accountSink.Notify(ctx, user, text)
	time.Sleep(300 * time.Millisecond)
	return nil
}

// Right after being told that the stored session does not open with the
// new session_key, the user can log in again: the session counts as
// logged out before the notice, not once its goroutine has ended.
func TestLoginRightAfterSessionKeyNotice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	stop()
	e.s.SessionKey = strings.Repeat("n", 32)
	sink := slowNotifySink{newAccountSink()}
	tr, stop = e.run(t, ctx, sink)
	defer stop()
	waitFor(t, ctx, "the user was never told to log in again", func() bool { return len(sink.Notices(testUser)) > 0 })
	tr.BeginLogin(ctx, testUser)
	next, _, err := tr.LoginAnswer(ctx, testUser, "phone", "+15550001111")
	if err != nil || next == nil || next.Field != "code" {
		t.Fatalf("right after the notice, the phone is answered with %+v, %v", next, err)
	}
	if _, done, err := tr.LoginAnswer(ctx, testUser, "code", e.mt.LastCode("+15550001111")); err != nil || done == "" {
		t.Fatalf("code: %v", err)
	}
	waitSignedIn(t, ctx, tr, testUser)
}

// failingKV fails every read of one key.
type failingKV struct {
	*transporttest.KV
	key string
}

func (k failingKV) Get(ctx context.Context, key string) (string, error) {
	if key == k.key {
		return "", errors.New("the store is down")
	}
	return k.KV.Get(ctx, key)
}

// A sign-in that fails before its first question (here the store cannot
// read the session) answers the phone with its error at once; it does not
// leave the answer waiting until its context ends.
func TestLoginFailingEarlyAnswersAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", State: failingKV{KV: e.kv, key: keySession(testUser)}}, e.s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, &transporttest.Sink{}) }()
	defer func() { stop(); <-done }()
	waitFor(t, ctx, "Run never started", func() bool { return tr.run.Load() != nil })
	tr.BeginLogin(ctx, testUser)
	_, _, err = tr.LoginAnswer(ctx, testUser, "phone", "+15550001111")
	var le *transports.LoginError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "the store is down") {
		t.Errorf("the phone answer of a sign-in that failed: %v, want the failure", err)
	}
}

// Telegram may end a logging-out session before its answer to auth.logOut
// comes: another request of the client meets the ended key, the session
// stops, and the request is cut off. That is the logout done: it succeeds,
// and the user is not told that Telegram ended their session.
func TestLogoutWhenTheSessionEndsFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sink := newAccountSink()
	c := newChatOn(t, ctx, sink)
	e, me, carol, tr := c.fakeEnv, c.me, c.carol, c.tr
	a := tr.account(testUser)

	release := e.mt.HoldCalls(tg.AuthLogOutRequestTypeID)
	defer release()
	done := make(chan error, 1)
	go func() { done <- tr.Logout(ctx, testUser) }()
	waitFor(t, ctx, "auth.logOut never reached Telegram", func() bool { return e.mt.CallsOf(tg.AuthLogOutRequestTypeID) == 1 })
	e.mt.Revoke(me.ID)                                                     // Telegram ends the session before it answers
	e.mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "are you there?", 0) // read within 30 s
	waitFor(t, ctx, "the session never stopped", func() bool {
		select {
		case <-a.cancel:
			return true
		default:
			return false
		}
	})
	release()
	if err := <-done; err != nil {
		t.Errorf("Logout: %v, want done", err)
	}
	if _, ok := tr.Accounts()[testUser]; ok {
		t.Error("after Logout the user is still logged in")
	}
	for _, n := range sink.Notices(testUser) {
		if strings.Contains(n, "Telegram ended your session") {
			t.Errorf("the user who logged out was told: %q", n)
		}
	}
}
