package sms

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// The SMS transport on the Twilio fake passes the transports' conformance
// suite; inbound events are signed webhooks.
func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) *transporttest.Harness {
		fake := twiliofake.New(testSID, testToken)
		var requests atomic.Int64
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			fake.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(api.Close)

		var sink atomic.Pointer[transports.Sink]
		mux := http.NewServeMux()
		var hooks http.Handler
		mux.Handle("/hooks/sms/", http.StripPrefix("/hooks/sms", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hooks.ServeHTTP(w, r)
		})))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		tr := newTestTransport(t, api.URL, srv.URL+"/hooks/sms")
		hooks = tr.Webhooks(transporttest.SinkFunc(func() transports.Sink { return *sink.Load() }))

		var mu sync.Mutex
		var hold chan struct{}
		return &transporttest.Harness{
			Transport: tr,
			Valid: map[string]transports.Addr{
				"+1 (555) 123-4567": "+15551234567",
				"+15551234567":      "+15551234567",
				"+44 20 7946 0958":  "+442079460958",
				"#MyBank":           "#mybank",
			},
			Invalid:  []string{"", "hello", "+1", "15551234567x", "+0123456789", "#", "#on.call"},
			Outbound: transports.Outbound{ID: "m1", Account: testAlice, To: "+15551234567", Body: "disk full on db1"},
			Requests: func() int { return int(requests.Load()) },
			FailSends: func(status int) {
				if status == 0 {
					fake.OnSend(nil)
					return
				}
				code := map[int]int{400: 21211, 401: 20003, 429: 20429, 500: 20500, 503: 20503}[status]
				fake.OnSend(func(twiliofake.Message) *twiliofake.APIError {
					return &twiliofake.APIError{Status: status, Code: code, Message: http.StatusText(status)}
				})
			},
			HoldSends: func() func() {
				mu.Lock()
				hold = make(chan struct{})
				ch := hold
				mu.Unlock()
				fake.OnSend(func(twiliofake.Message) *twiliofake.APIError { <-ch; return nil })
				var once sync.Once
				return func() { once.Do(func() { close(ch) }) }
			},
			Receive: func(t *testing.T, s transports.Sink, i int) bool {
				sink.Store(&s)
				sid := fmt.Sprintf("SM%032d", i)
				st, err := fake.PostForm(context.Background(), srv.URL+"/hooks/sms/inbound",
					fake.InboundForm(sid, "+15551234567", testAlice, fmt.Sprint("reply ", i)))
				if err != nil {
					t.Fatal(err)
				}
				return st >= 200 && st < 300
			},
		}
	})
}
