package telegram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// The Telegram transport, polling the Bot API fake, passes the transports'
// conformance suite; inbound events are updates from getUpdates.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) *transporttest.Harness {
		fake := botfake.New(testToken)
		t.Cleanup(fake.Close)
		fake.AddChat(dm)
		var requests atomic.Int64
		var mu sync.Mutex
		var hold chan struct{} // while set, sendMessage waits for it
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(strings.ToLower(r.URL.Path), "/getupdates") {
				requests.Add(1) // the poll is the transport's own, not a call it was asked for
			}
			if strings.HasSuffix(strings.ToLower(r.URL.Path), "/sendmessage") {
				mu.Lock()
				ch := hold
				mu.Unlock()
				if ch != nil {
					select {
					case <-ch:
					case <-r.Context().Done():
						return
					}
				}
			}
			fake.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(api.Close)
		s := &Settings{Token: testToken, APIURL: api.URL, Mode: ModePolling,
			RateLimits: RateLimits{ChatPerSecond: 1000, GroupPerMinute: 60000, TotalPerSecond: 1000}}
		tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
			MediaURL: "https://gw.example.test/media/telegram", State: &memKV{}}, s)
		if err != nil {
			t.Fatal(err)
		}
		tr.pollTimeout = time.Second

		var sink atomic.Pointer[transports.Sink]
		var none transports.Sink = &transporttest.Sink{}
		sink.Store(&none)
		var running sync.Once
		sent := map[int]botfake.Message{} // event i, as the user sent it
		return &transporttest.Harness{
			Transport: tr,
			Valid: map[string]transports.Addr{
				"123456789":      "123456789",
				" 123456789 ":    "123456789",
				"-1001234567890": "-1001234567890",
			},
			Invalid:  []string{"", "alice", "+123", "0", "0123", "12.5", "99999999999999999999"},
			Outbound: transports.Outbound{ID: "m1", To: "111", Body: "disk full on db1"},
			Requests: func() int { return int(requests.Load()) },
			FailSends: func(status int) {
				if status != 0 {
					retry := 0
					if status == http.StatusTooManyRequests {
						retry = 1
					}
					fake.Fail("sendMessage", 1, status, "", retry)
				}
			},
			HoldSends: func() func() {
				ch := make(chan struct{})
				mu.Lock()
				hold = ch
				mu.Unlock()
				var once sync.Once
				return func() {
					once.Do(func() {
						mu.Lock()
						hold = nil
						mu.Unlock()
						close(ch)
					})
				}
			},
			Receive: func(t *testing.T, s transports.Sink, i int) bool {
				sink.Store(&s)
				running.Do(func() {
					run(t, tr, transporttest.SinkFunc(func() transports.Sink { return *sink.Load() }))
				})
				rec, ok := s.(*transporttest.Sink)
				if !ok {
					t.Fatal("Receive wants a *transporttest.Sink")
				}
				before := len(rec.Inbound())
				if m, ok := sent[i]; ok {
					raw, _ := json.Marshal(map[string]any{"message": m}) // the same message, as a new update
					fake.PushUpdate(raw)
				} else {
					sent[i] = fake.UserSends(dm, alice, "reply "+strconv.Itoa(i))
				}
				got := rec.WaitInbound(t, before)
				id := got[before].ID
				// Acknowledged: the update is confirmed (the next poll's
				// offset is past it). Not: it is handed over again.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				acked := false
				fake.WaitFor(ctx, func() bool {
					if fake.Pending() == 0 {
						acked = true
						return true
					}
					n := 0
					for _, in := range rec.Inbound()[before:] {
						if in.ID == id {
							n++
						}
					}
					return n >= 2
				})
				if ctx.Err() != nil {
					t.Fatal("the update was neither confirmed nor handed over again")
				}
				return acked
			},
		}
	})
}
