package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

const testToken = "0123456789abcdef-token"

// fakeQueue resolves x@sms.test to SMS, x@tg.test to a chat, other
// user@domain JIDs to XMPP users, and records what is queued, deduping by
// id and text.
type fakeQueue struct {
	mu     sync.Mutex
	queued []queued
	seen   map[string]bool
	err    error // returned by Queue if set
}

type queued struct {
	to         string
	kind       Kind
	id, text   string
	duplicated bool
}

func (q *fakeQueue) Resolve(to string) (Destination, error) {
	user, domain, ok := strings.Cut(strings.ToLower(to), "@")
	switch {
	case strings.HasPrefix(to, "+") && !ok:
		return Destination{JID: to + "@sms.test", Kind: SMS}, nil
	case !ok || user == "" || domain == "":
		return Destination{}, fmt.Errorf("%q is not a JID", to)
	case domain == "sms.test":
		return Destination{JID: user + "@" + domain, Kind: SMS}, nil
	case domain == "tg.test":
		return Destination{JID: user + "@" + domain, Kind: Chat}, nil
	}
	return Destination{JID: user + "@" + domain, Kind: XMPP}, nil
}

func (q *fakeQueue) Queue(_ context.Context, d Destination, id, text string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return false, q.err
	}
	if q.seen == nil {
		q.seen = map[string]bool{}
	}
	k := id + "\x00" + text
	dup := q.seen[k]
	q.seen[k] = true
	q.queued = append(q.queued, queued{d.JID, d.Kind, id, text, dup})
	return dup, nil
}

func (q *fakeQueue) take() []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.queued
	q.queued = nil
	return out
}

var testRoutes = []Route{
	{Match: map[string]string{"severity": "critical"}, To: []string{"oncall@example.com", "+15551234567", "-1001234@tg.test"}},
	{Match: map[string]string{"team": "db"}, To: []string{"dba@example.com"}},
	{To: []string{"ops@example.com", "OPS@example.com"}}, // the default; a repeat is dropped
}

func newTestHandler(t *testing.T, q *fakeQueue, routes []Route) *Handler {
	t.Helper()
	h, err := New(Options{Token: testToken, Routes: routes, Queue: q, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends body to h with the given Authorization header.
func post(h http.Handler, method, auth, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/alerts", strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNew(t *testing.T) {
	q := &fakeQueue{}
	log := slog.New(slog.DiscardHandler)
	_, err := New(Options{Token: testToken, Queue: q, Logger: log,
		Routes: []Route{{To: []string{"a@b.c"}}, {To: []string{"ok@x.y", "nope"}}}})
	if err == nil || err.Error() != `routes[1].to[1]: "nope" is not a JID` {
		t.Errorf("got %v", err)
	}
	if _, err := New(Options{Token: "short", Queue: q, Logger: log}); err == nil || err.Error() != "token: must be at least 16 characters long" {
		t.Errorf("got %v", err)
	}
}

func TestHandlerRefusals(t *testing.T) {
	q := &fakeQueue{}
	h := newTestHandler(t, q, testRoutes)
	bearer := "Bearer " + testToken
	tests := []struct {
		method, auth, body string
		status             int
		want               string // the JSON answer
	}{
		0: {"GET", bearer, "", 405, `{"queued":0,"duplicates":0,"error":"use POST"}`},
		1: {"POST", "", `{"text":"x"}`, 401, `{"queued":0,"duplicates":0,"error":"a valid Authorization: Bearer token is required"}`},
		2: {"POST", "Bearer wrong-token-0123456789", `{"text":"x"}`, 401, `{"queued":0,"duplicates":0,"error":"a valid Authorization: Bearer token is required"}`},
		3: {"POST", "Basic " + testToken, `{"text":"x"}`, 401, `{"queued":0,"duplicates":0,"error":"a valid Authorization: Bearer token is required"}`},
		4: {"POST", "Bearer " + testToken + "x", `{"text":"x"}`, 401, `{"queued":0,"duplicates":0,"error":"a valid Authorization: Bearer token is required"}`},
		5: {"POST", bearer, `{"text":`, 400, `{"queued":0,"duplicates":0,"error":"the JSON is cut short"}`},
		6: {"POST", bearer, `{"text":"x","to":["ops@example.com","nope"]}`, 400, `{"queued":0,"duplicates":0,"error":"to[1]: \"nope\" is not a JID"}`},
		7: {"POST", bearer, `{"alerts":[{"status":"firing","labels":{"severity":"info"}}]}`, 200, `{"queued":1,"duplicates":0}`}, // the default route
		8: {"POST", bearer, strings.Repeat(" ", MaxBody) + `{"text":"x"}`, 413, `{"queued":0,"duplicates":0,"error":"the body is larger than 1048576 bytes"}`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			w := post(h, tt.method, tt.auth, tt.body)
			if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.want {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.status, tt.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.status == 401 && w.Header().Get("WWW-Authenticate") != `Bearer realm="xmppgw alerts"` {
				t.Errorf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
			}
			if tt.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
			if queued := q.take(); tt.status != 200 && len(queued) > 0 {
				t.Errorf("queued %+v", queued)
			}
		})
	}

	// Without a default route, alerts no route takes are refused.
	h = newTestHandler(t, q, testRoutes[:2])
	w := post(h, "POST", bearer, `{"alerts":[{"status":"firing","labels":{"severity":"info"}}]}`)
	if w.Code != 422 || strings.TrimSpace(w.Body.String()) != `{"queued":0,"duplicates":0,"unrouted":1,"error":"no route matches any of the 1 alerts, and the request gives no \"to\""}` {
		t.Errorf("no route: got %d %s", w.Code, w.Body)
	}
	w = post(h, "POST", bearer, `{"text":"x"}`)
	if w.Code != 422 || strings.TrimSpace(w.Body.String()) != `{"queued":0,"duplicates":0,"error":"no destination: give \"to\", or configure a route without match"}` {
		t.Errorf("no destination: got %d %s", w.Code, w.Body)
	}
}

func TestHandlerAlertmanager(t *testing.T) {
	body, err := os.ReadFile("testdata/alertmanager.json")
	if err != nil {
		t.Fatal(err)
	}
	q := &fakeQueue{}
	h := newTestHandler(t, q, testRoutes)
	w := post(h, "POST", "Bearer "+testToken, string(body))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"queued":4,"duplicates":0}` {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	critical := "[FIRING:1] HighLatency (severity=critical)\n- api-1:9090: p99 latency 812ms\n[RESOLVED:1]\n- api-3:9090: p99 latency 120ms"
	warning := "[FIRING:1] HighLatency (severity=warning)\n- api-2:9090: p99 latency above 500ms"
	got := q.take()
	want := []queued{
		{"oncall@example.com", XMPP, "", critical, false},
		{"+15551234567@sms.test", SMS, "", critical, false},
		{"-1001234@tg.test", Chat, "", critical, false},
		{"ops@example.com", XMPP, "", warning, false},
	}
	if len(got) != len(want) {
		t.Fatalf("queued %+v", got)
	}
	ids := map[string]bool{}
	for i := range want {
		if !strings.HasPrefix(got[i].id, "alert-") || ids[got[i].id] {
			t.Errorf("%d: id %q", i, got[i].id)
		}
		ids[got[i].id] = true
		got[i].id = ""
		if got[i] != want[i] {
			t.Errorf("%d: queued %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// Alertmanager retries: the same ids and texts, so all duplicates.
	w = post(h, "POST", "Bearer "+testToken, string(body))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"queued":0,"duplicates":4}` {
		t.Errorf("retry: got %d %s", w.Code, w.Body)
	}
	for _, q := range q.take() {
		if !ids[q.id] {
			t.Errorf("retry: new id %q", q.id)
		}
	}

	// Once the alert resolves, it is a new notification.
	resolved := bytes.Replace(body, []byte(`"status": "firing",
      "labels": {"alertname": "HighLatency", "instance": "api-1:9090"`), []byte(`"status": "resolved",
      "labels": {"alertname": "HighLatency", "instance": "api-1:9090"`), 1)
	w = post(h, "POST", "Bearer "+testToken, string(resolved))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"queued":3,"duplicates":1}` {
		t.Errorf("resolved: got %d %s", w.Code, w.Body)
	}
	if got := q.take(); len(got) != 4 || got[0].text != "[RESOLVED:2] HighLatency (severity=critical)\n- api-1:9090: p99 latency 812ms\n- api-3:9090: p99 latency 120ms" {
		t.Errorf("resolved: queued %+v", got)
	}

	// With "to", every alert goes there, grouped.
	w = post(h, "POST", "Bearer "+testToken, strings.Replace(string(body), `"version": "4",`, `"version": "4", "to": ["+15550000000"],`, 1))
	if w.Code != 200 {
		t.Errorf("to: got %d %s", w.Code, w.Body)
	}
	if got := q.take(); len(got) != 1 || got[0].text != "[FIRING:2] HighLatency\n- api-1:9090: p99 latency 812ms\n- api-2:9090: p99 latency above 500ms\n[RESOLVED:1]\n- api-3:9090: p99 latency 120ms" {
		t.Errorf("to: queued %+v", got)
	}
}

func TestHandlerSimple(t *testing.T) {
	q := &fakeQueue{}
	h := newTestHandler(t, q, testRoutes)
	long := strings.Repeat("disk full on db1 ", 20)
	w := post(h, "POST", "bearer "+testToken, `{"to":["ops@example.com","+15551234567","ops@example.com"],"text":"`+long+`"}`)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"queued":2,"duplicates":0}` {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	got := q.take()
	if len(got) != 2 || got[0].text != strings.TrimSpace(long) || got[1].text != strings.TrimSpace(long)[:157]+"..." {
		t.Errorf("queued %+v", got)
	}
	// Without an id, sending again is a new message; with one, it is not.
	post(h, "POST", "Bearer "+testToken, `{"to":["ops@example.com"],"text":"`+long+`"}`)
	if again := q.take(); len(again) != 1 || again[0].duplicated || again[0].id == got[0].id {
		t.Errorf("again: %+v", again)
	}
	for i, want := range []string{`{"queued":1,"duplicates":0}`, `{"queued":0,"duplicates":1}`} {
		w = post(h, "POST", "Bearer "+testToken, `{"text":"backup done","id":"backup-2024-05-01"}`)
		if strings.TrimSpace(w.Body.String()) != want {
			t.Errorf("%d: with an id: %s, want %s", i, w.Body, want)
		}
	}
	if got := q.take(); len(got) != 2 || got[0].to != "ops@example.com" || got[0].id != got[1].id {
		t.Errorf("with an id: %+v", got)
	}
}

func TestHandlerQueueErrors(t *testing.T) {
	q := &fakeQueue{err: errors.New("mapping: store unavailable: disk I/O error")}
	h := newTestHandler(t, q, testRoutes)
	w := post(h, "POST", "Bearer "+testToken, `{"text":"x"}`)
	if w.Code != 503 || w.Header().Get("Retry-After") != "30" ||
		strings.TrimSpace(w.Body.String()) != `{"queued":0,"duplicates":0,"error":"the gateway cannot store alerts right now; retry later"}` {
		t.Errorf("store down: got %d %s", w.Code, w.Body)
	}
	q.err = fmt.Errorf("%w: ops@example.com may send at most 200 SMS messages an hour", ErrLimited)
	w = post(h, "POST", "Bearer "+testToken, `{"text":"x"}`)
	if w.Code != 429 || strings.TrimSpace(w.Body.String()) != `{"queued":0,"duplicates":0,"error":"over the rate limit: ops@example.com may send at most 200 SMS messages an hour"}` {
		t.Errorf("limited: got %d %s", w.Code, w.Body)
	}
}
