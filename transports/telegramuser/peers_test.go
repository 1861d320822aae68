package telegramuser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// offlineAccount is a signed-in account of testUser on a transport that
// runs no client: for tests of what it keeps.
func offlineAccount(t *testing.T, ctx context.Context) (*Transport, *account) {
	t.Helper()
	s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32)}
	if probs := s.Validate(); len(probs) > 0 {
		t.Fatal(probs)
	}
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", State: &transporttest.KV{}}, s)
	if err != nil {
		t.Fatal(err)
	}
	tr.run.Store(&runState{ctx: ctx, sink: &transporttest.Sink{}})
	a := newAccount(tr, testUser, true)
	a.self.Store(1000)
	tr.accounts[testUser] = a
	return tr, a
}

// scriptedAccount is an offlineAccount whose events go to sink and whose
// client never connects: a middleware answers its requests from answer
// (nil: the test fails, and the request with it).
func scriptedAccount(t *testing.T, ctx context.Context, sink transports.Sink, answer func(input bin.Encoder) bin.Encoder) *account {
	t.Helper()
	tr, a := offlineAccount(t, ctx)
	tr.run.Store(&runState{ctx: ctx, sink: sink})
	mw := telegram.MiddlewareFunc(func(next tg.Invoker) telegram.InvokeFunc {
		return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
			res := answer(input)
			if res == nil {
				t.Errorf("unexpected request %T", input)
				return context.Canceled
			}
			var b bin.Buffer
			if err := res.Encode(&b); err != nil {
				return err
			}
			return output.Decode(&b)
		}
	})
	c := telegram.NewClient(tr.s.APIID, tr.s.APIHash, telegram.Options{Middlewares: []telegram.Middleware{mw}})
	a.cl.Store(&client{Client: c, gate: newGate()})
	return a
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

// A channel (or user) the account only saw as a "min" constructor
// (Telegram sends these for one mentioned in a message of a chat the
// account is in, e.g. where a post was forwarded from; a min constructor's
// "left" means nothing and its access hash is not usable) is never taken
// for one the account is in, nor for a peer to send to; its name is kept.
func TestMinPeersAreNotMembership(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, a := offlineAccount(t, ctx)
	a.peers.add([]tg.UserClass{&tg.User{ID: 77, Min: true, AccessHash: 1, FirstName: "Forwarder"}}, []tg.ChatClass{
		&tg.Chat{ID: 5000001, Title: "Friends"},
		&tg.Channel{ID: 1500000009, Min: true, AccessHash: 42, Title: "Private news", Broadcast: true},
	})
	ch := channelAddr(1500000009)
	if _, ok := a.peers.input(ch); ok {
		t.Error("a min channel is taken for one the account is in (Member would admit the user to its room)")
	}
	if _, ok := a.peers.channel(1500000009); ok || len(a.peers.joined()) != 0 {
		t.Error("a min channel is among the account's channels")
	}
	if _, ok := a.peers.input("77"); ok {
		t.Error("a min user is taken for a peer to send to")
	}
	if a.peers.name(ch) != "Private news" || a.peers.name("77") != "Forwarder" {
		t.Errorf("names: %q, %q", a.peers.name(ch), a.peers.name("77"))
	}
	// The full constructor, as the dialogs give it, counts; a min one
	// seen later does not replace it.
	a.peers.add([]tg.UserClass{&tg.User{ID: 77, AccessHash: 5, FirstName: "Forwarder"}},
		[]tg.ChatClass{&tg.Channel{ID: 1500000009, AccessHash: 43, Title: "Private news", Broadcast: true}})
	a.peers.add([]tg.UserClass{&tg.User{ID: 77, Min: true, FirstName: "Forwarder"}},
		[]tg.ChatClass{&tg.Channel{ID: 1500000009, Min: true, Title: "Private news", Broadcast: true}})
	if in, ok := a.peers.input(ch); !ok || in.(*tg.InputPeerChannel).AccessHash != 43 {
		t.Errorf("the full channel: %v, %v", in, ok)
	}
	if in, ok := a.peers.input("77"); !ok || in.(*tg.InputPeerUser).AccessHash != 5 {
		t.Errorf("the full user: %v, %v", in, ok)
	}
}
