package telegram

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xmppgw/transports"
)

// An answer that is not Bot API JSON (the error page of a reverse proxy or
// web server in front of api_url) is known by its HTTP status alone, which
// the library ignores: the error names it, and it is classified as its
// JSON form would be, so that a 4xx is not retried until retry_for. Bot
// API JSON answering an upload, whose error the library builds without
// its code, is Telegram's answer all the same: its description, kind and
// retry_after are kept. The token never shows.
func TestAnswerNotBotAPI(t *testing.T) {
	nginx413 := "<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>"
	tests := []struct {
		status int
		body   string
		media  bool // the request is an upload (sendPhoto)
		kind   transports.Kind
		msg    string
		retry  time.Duration
	}{
		{413, nginx413, true, transports.KindRejected, "Telegram: HTTP 413 Request Entity Too Large from api_url (not a Bot API answer)", 0},
		{413, nginx413, false, transports.KindRejected, "Telegram: HTTP 413 Request Entity Too Large from api_url (not a Bot API answer)", 0},
		{404, "404 page not found\n", false, transports.KindAuth, "Telegram: HTTP 404 Not Found from api_url (not a Bot API answer)", 0},
		{401, "<html>401 Authorization Required</html>", false, transports.KindAuth, "Telegram: HTTP 401 Unauthorized from api_url (not a Bot API answer)", 0},
		{403, "<html><body>Forbidden</body></html>", false, transports.KindRejected, "Telegram: HTTP 403 Forbidden from api_url (not a Bot API answer)", 0},
		{400, "", false, transports.KindRejected, "Telegram: HTTP 400 Bad Request from api_url (not a Bot API answer)", 0},
		{408, "timeout", false, transports.KindUnavailable, "Telegram: HTTP 408 Request Timeout from api_url (not a Bot API answer)", 0},
		{429, "slow down", false, transports.KindRateLimited, "Telegram: HTTP 429 Too Many Requests from api_url (not a Bot API answer)", 0},
		{502, "<html>502 Bad Gateway</html>", false, transports.KindUnavailable, "Telegram: HTTP 502 Bad Gateway from api_url (not a Bot API answer)", 0},
		{503, `{"error":"maintenance"}`, false, transports.KindUnavailable, "Telegram: HTTP 503 Service Unavailable from api_url (not a Bot API answer)", 0},
		// Bot API JSON answering an upload: the library leaves the code
		// out of its error, yet it is Telegram's answer, classified by
		// its JSON (a description alone: by the HTTP status).
		{403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, true,
			transports.KindUnreachable, "Telegram error 403: Forbidden: bot was blocked by the user", 0},
		{400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, true,
			transports.KindUnreachable, "Telegram error 400: Bad Request: chat not found", 0},
		{400, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}`, true,
			transports.KindUnreachable, "Telegram error 400: Bad Request: group chat was upgraded to a supergroup chat", 0},
		{429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3600","parameters":{"retry_after":3600}}`, true,
			transports.KindRateLimited, "Telegram error 429: Too Many Requests: retry after 3600", time.Hour},
		{403, `{"ok":false,"description":"Forbidden: bot was kicked from the group chat"}`, true,
			transports.KindUnreachable, "Telegram error 403: Forbidden: bot was kicked from the group chat", 0},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(tt.status)
			w.Write([]byte(tt.body))
		}))
		tr, err := New(transports.Params{Name: "telegram", State: &memKV{}}, &Settings{Token: testToken, APIURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		out := transports.Outbound{To: "111", Body: "x", ID: "1"}
		if tt.media {
			allowLoopback(t, tr)
			fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
			out.Media = []string{fs.URL + "/up/cat.jpg"}
		}
		_, err = tr.Send(testCtx(t), out)
		srv.Close()
		var pe *transports.Error
		if !errors.As(err, &pe) || pe.Kind != tt.kind || err.Error() != tt.msg || pe.RetryAfter != tt.retry {
			t.Errorf("HTTP %d (upload %v): got %v (%#v)\nwant %v: %s, retry after %v", tt.status, tt.media, err, pe, tt.kind, tt.msg, tt.retry)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("HTTP %d: the error shows the token: %v", tt.status, err)
		}
	}

	// A Bot API error is classified by its JSON, whatever the status; an
	// answer of 200 that is not JSON is temporary, as before.
	fake, _ := newTest(t, ModePolling, nil)
	_, err := fake.Send(testCtx(t), transports.Outbound{To: "999", Body: "x", ID: "2"})
	if pe, _ := err.(*transports.Error); pe == nil || pe.Error() != "Telegram error 400: Bad Request: chat not found" {
		t.Errorf("Bot API 400: %v", err)
	}
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>portal</html>")) }))
	defer ok.Close()
	tr, err := New(transports.Params{Name: "telegram", State: &memKV{}}, &Settings{Token: testToken, APIURL: ok.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Send(testCtx(t), transports.Outbound{To: "111", Body: "x", ID: "3"})
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Errorf("HTTP 200 with HTML: %v, want a temporary error", err)
	}
}

// A failure that sent nothing to Telegram says so (NotSent), so that the
// core does not count its retry as a possible duplicate: a connection
// refused, an attachment that could not be fetched. A connection cut after
// the request went out leaves the outcome unknown.
func TestFailureThatSentNothing(t *testing.T) {
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the request arrived whole...
		c, _, _ := w.(http.Hijacker).Hijack()
		c.(*net.TCPConn).SetLinger(0)
		c.Close() // ...and its answer is lost
	}))
	defer reset.Close()
	tests := []struct {
		name    string
		apiURL  string
		media   string // an attachment's path on the file server, if any
		notSent bool
	}{
		{"connection refused", "http://127.0.0.1:1", "", true},
		{"connection reset after the request", reset.URL, "", false},
		{"the attachment's server answers 503", reset.URL, "/busy.jpg", true},
		{"the attachment's server is down", reset.URL, "/down", true},
	}
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	for _, tt := range tests {
		tr, err := New(transports.Params{Name: "telegram", State: &memKV{}}, &Settings{Token: testToken, APIURL: tt.apiURL})
		if err != nil {
			t.Fatal(err)
		}
		out := transports.Outbound{To: "111", Body: "x", ID: "1"}
		switch tt.media {
		case "/busy.jpg":
			allowLoopback(t, tr)
			out.Media = []string{busy.URL + tt.media}
		case "/down":
			allowLoopback(t, tr)
			out.Media = []string{"http://127.0.0.1:1/down.jpg"}
		}
		_, err = tr.Send(testCtx(t), out)
		var pe *transports.Error
		if !errors.As(err, &pe) || !pe.Temporary() || pe.NotSent != tt.notSent {
			t.Errorf("%s: %#v (%v), want temporary, NotSent %v", tt.name, pe, err, tt.notSent)
		}
	}
}
