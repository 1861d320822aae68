package telegramuser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// offlineAccount is a signed-in account of testUser on a transport that
// runs no client: for tests of what it keeps.
func offlineAccount(t *testing.T, ctx context.Context) (*Transport, *account) {
	t.Helper()
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", State: &transporttest.KV{}},
		&Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32)})
	if err != nil {
		t.Fatal(err)
	}
	tr.run.Store(&runState{ctx: ctx, sink: &transporttest.Sink{}})
	a := newAccount(tr, testUser, true)
	a.self.Store(1000)
	tr.accounts[testUser] = a
	return tr, a
}

// A user removed from a basic group (Telegram then gives the group as
// chatForbidden, in the update's and the dialogs' chats) may no longer
// join its room, and so read its history and archive. (Member looks the
// group up in what the account keeps first; only a group it does not know
// is looked for among the dialogs, which this offline account cannot
// read, so the test asks the peers directly after the kick.)
func TestKickedFromBasicGroupEndsMembership(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr, a := offlineAccount(t, ctx)
	a.peers.add(nil, []tg.ChatClass{&tg.Chat{ID: 5000001, Title: "Team", ParticipantsCount: 3}})
	if _, ok, _ := tr.Member(ctx, testUser, "-5000001"); !ok {
		t.Fatal("not a member before the kick")
	}
	// Kicked: the service message's update carries the group as chatForbidden.
	if err := a.handle(ctx, nil, nil, nil, []tg.ChatClass{&tg.ChatForbidden{ID: 5000001, Title: "Team"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.peers.input("-5000001"); ok {
		t.Error("after being removed from the group (chatForbidden), the account still counts as in it")
	}
}
