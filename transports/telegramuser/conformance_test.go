package telegramuser

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

const testUser = "alice@example.test"

// The telegram-user transport, signed in to the MTProto fake, passes the
// transports' conformance suite. An inbound event is a message from a
// contact; the transport acknowledges it by storing an update state past
// it, and the same event again is the difference read again from the
// state before it (as after a crash before the state was stored).
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) *transporttest.Harness {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		mt, err := tguserfake.Start(ctx, "127.0.0.1:0", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mt.Close() })
		me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
		carol := mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
		mt.AddContact(me.ID, carol.ID)

		kv := &transporttest.KV{}
		s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32),
			Server: &Server{Address: mt.Addr(), PublicKey: string(mt.PublicKeyPEM())}}
		if probs := s.Validate(); len(probs) > 0 {
			t.Fatal(probs)
		}
		tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: kv}, s)
		if err != nil {
			t.Fatal(err)
		}
		var sink atomic.Pointer[transports.Sink]
		var none transports.Sink = &transporttest.Sink{}
		sink.Store(&none)
		done := make(chan struct{})
		go func() {
			defer close(done)
			tr.Run(ctx, transporttest.SinkFunc(func() transports.Sink { return *sink.Load() }))
		}()
		t.Cleanup(func() { cancel(); <-done })
		signInAt(t, tr, mt, "+15550001111")
		account := tr.Accounts()[testUser]

		state := func() (st syncState) {
			v, _ := kv.Get(ctx, keyState(testUser))
			json.Unmarshal([]byte(v), &st)
			return st
		}
		before := map[int]syncState{} // event i: the stored state before it
		return &transporttest.Harness{
			Transport: tr,
			Valid:     map[string]transports.Addr{"123456789": "123456789", "-5000001": "-5000001"},
			Invalid:   []string{"", "alice", "+123", "0", "0123", "12.5", "99999999999999999999", "--5"},
			Outbound:  transports.Outbound{ID: "m1", Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "disk full on db1"},
			Requests:  mt.Calls,
			FailSends: func(status int) {
				errs := map[int]*tgerr.Error{
					500: tgerr.New(500, "INTERNAL"), 503: tgerr.New(503, "SERVICE_UNAVAILABLE"),
					429: tgerr.New(420, "FLOOD_WAIT_600"), 401: tgerr.New(401, "AUTH_KEY_UNREGISTERED"),
					400: tgerr.New(400, "PEER_ID_INVALID"),
				}
				mt.Fail(tg.MessagesSendMessageRequestTypeID, errs[status])
				// The FLOOD_WAIT_600 of an earlier call has ended: the
				// account's sends are no longer paused (Send).
				tr.account(testUser).sendPause.Store(0)
			},
			HoldSends: func() func() { return mt.HoldCalls(tg.MessagesSendMessageRequestTypeID) },
			Receive: func(t *testing.T, s transports.Sink, i int) bool {
				sink.Store(&s)
				rec, ok := s.(*transporttest.Sink)
				if !ok {
					t.Fatal("Receive wants a *transporttest.Sink")
				}
				n := len(rec.Inbound())
				if st, ok := before[i]; ok {
					// The same event again: the state rewound to before it.
					b, _ := json.Marshal(st)
					kv.Set(ctx, keyState(testUser), string(b))
					mt.Typing(carol.ID, tguserfake.Peer{User: me.ID}) // a push: the transport reads the difference
				} else {
					before[i] = state()
					mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "reply "+strconv.Itoa(i), 0)
				}
				got := rec.WaitInbound(t, n)
				id := got[n].ID
				deadline := time.Now().Add(20 * time.Second)
				for time.Now().Before(deadline) {
					if state().Pts > before[i].Pts {
						return true // acknowledged: the stored state is past it
					}
					k := 0
					for _, in := range rec.Inbound()[n:] {
						if in.ID == id {
							k++
						}
					}
					if k >= 2 {
						return false // handed over again, not acknowledged
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Fatal("the message was neither acknowledged nor handed over again")
				return false
			},
		}
	})
}

// signInAt signs testUser in to the fake as phone, through transports.Login.
func signInAt(t *testing.T, tr *Transport, mt *tguserfake.Server, phone string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if p := tr.BeginLogin(ctx, testUser); p.Field != "phone" {
		t.Fatalf("first question: %+v", p)
	}
	var next *transports.Prompt
	var err error
	for next, _, err = tr.LoginAnswer(ctx, testUser, "phone", phone); err != nil; next, _, err = tr.LoginAnswer(ctx, testUser, "phone", phone) {
		if ctx.Err() != nil || !strings.Contains(err.Error(), "starting") {
			t.Fatalf("phone: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // Run has not started yet
	}
	if next == nil || next.Field != "code" {
		t.Fatalf("after the phone: %+v", next)
	}
	if _, done, err := tr.LoginAnswer(ctx, testUser, "code", mt.LastCode(phone)); err != nil || done == "" {
		t.Fatalf("code: %q, %v", done, err)
	}
	for tr.Accounts()[testUser] == "" {
		if ctx.Err() != nil {
			t.Fatal("never signed in")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
