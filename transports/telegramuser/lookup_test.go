package telegramuser

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// After a restart the account knows only its last 100 chats and its
// contacts: a message to an older chat is found by reading the dialogs
// further, page by page, and sent, not refused; an older group may be
// joined.
func TestSendToAnOldChatAfterARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mt, err := tguserfake.Start(ctx, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mt.Close() })
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	group := mt.AddGroup("Old friends", me.ID)
	mt.Post(me.ID, tguserfake.Peer{Chat: group}, "long ago", 0)
	var oldest tguserfake.User
	for i := range 130 { // each writes once, the first the longest ago
		u := mt.AddUser(tguserfake.User{Phone: "+1555003" + strconv.Itoa(1000+i), FirstName: "Writer" + strconv.Itoa(i)})
		if i == 0 {
			oldest = u
		}
		mt.Post(u.ID, tguserfake.Peer{User: me.ID}, "hello "+strconv.Itoa(i), 0)
	}

	kv := &transporttest.KV{}
	s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32),
		Server: &Server{Address: mt.Addr(), PublicKey: string(mt.PublicKeyPEM())}}
	if probs := s.Validate(); len(probs) > 0 { // it also completes the settings
		t.Fatal(probs)
	}
	run := func() (*Transport, func()) {
		tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: kv}, s)
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); tr.Run(rctx, &transporttest.Sink{}) }()
		return tr, func() { stop(); <-done }
	}
	tr, stop := run()
	signInAt(t, tr, mt, "+15550001111")
	stop()

	tr, stop = run() // the session resumed, its chats not known yet
	defer stop()
	var account transports.Addr
	for account = tr.Accounts()[testUser]; account == ""; account = tr.Accounts()[testUser] {
		if ctx.Err() != nil {
			t.Fatal("the session never resumed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	to := transports.Addr(strconv.FormatInt(oldest.ID, 10))
	if _, err := tr.Send(ctx, transports.Outbound{ID: "m1", Account: account, To: to, Body: "sorry for the delay"}); err != nil {
		t.Fatalf("a send to the oldest chat: %v", err)
	}
	sent := mt.History(me.ID, tguserfake.Peer{User: oldest.ID})
	if len(sent) == 0 || sent[len(sent)-1].Text != "sorry for the delay" {
		t.Errorf("the oldest chat's history: %+v", sent)
	}
	// The old group may be joined as a room: its account is in it.
	if title, ok, err := tr.Member(ctx, testUser, transports.Addr("-"+strconv.FormatInt(group, 10))); err != nil || !ok || title != "Old friends" {
		t.Errorf("Member of the old group: %q, %v, %v", title, ok, err)
	}
	// A chat that is nowhere among them is refused for good.
	var te *transports.Error
	if _, err := tr.Send(ctx, transports.Outbound{ID: "m2", Account: account, To: "987654321", Body: "x"}); !errors.As(err, &te) || te.Kind != transports.KindInvalidAddress {
		t.Errorf("a send to an unknown chat: %v, want an invalid address", err)
	}
}
