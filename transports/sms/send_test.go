package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/transports"
)

const publicURL = "https://gw.example.test/hooks/sms"

func out(to, body string) transports.Outbound {
	return transports.Outbound{Account: testAlice, To: transports.Addr(to), Body: body, ID: "job1"}
}

func startFake(t *testing.T, sid, token string) (*twiliofake.Fake, string) {
	t.Helper()
	f := twiliofake.New(sid, token)
	base, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, base
}

func TestSendSuccess(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "sydney") // must not move requests away from api_url
	t.Setenv("TWILIO_REGION", "au1")
	f, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL)
	sid, err := tr.Send(context.Background(), out("+15551234567", "hello & ünïcode"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake has %d messages", len(msgs))
	}
	m := msgs[0]
	want := twiliofake.Message{SID: sid, From: testAlice, To: "+15551234567", Body: "hello & ünïcode",
		StatusCallback: publicURL + "/status#rc=5&rp=all", Created: m.Created}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("sent %+v\nwant %+v", m, want)
	}
}

// TestSendCorrection: an SMS cannot be edited, so an XEP-0308 correction is
// a new SMS that says it is one.
func TestSendCorrection(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL)
	o := out("+15551234567", "db is back up")
	o.Replaces = "SM00000000000000000000000000000001"
	if _, err := tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if msgs := f.Messages(); len(msgs) != 1 || msgs[0].Body != "Correction: db is back up" {
		t.Errorf("sent %+v", msgs)
	}
}

// TestSendReplyAndRetraction: a reply starts with a short quote; a
// retraction is refused, as an SMS cannot be deleted.
func TestSendReplyAndRetraction(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL)
	o := out("+15551234567", "yes, restarting it")
	o.Quote = "is the db down?"
	if _, err := tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if msgs := f.Messages(); len(msgs) != 1 || msgs[0].Body != "> is the db down?\nyes, restarting it" {
		t.Errorf("sent %+v", msgs)
	}
	r := out("+15551234567", "")
	r.Retracts = "SM00000000000000000000000000000001"
	_, err := tr.Send(context.Background(), r)
	var pe *transports.Error
	if !errors.As(err, &pe) || pe.Kind != transports.KindRejected || pe.Message != "an SMS cannot be deleted once sent" {
		t.Errorf("retraction: %v", err)
	}
	if len(f.Messages()) != 1 {
		t.Errorf("a retraction reached Twilio")
	}
}

// TestSendPathPrefix checks that api_url's path is kept in front of
// Twilio's paths (e.g. a Twilio-compatible API under /api/laml).
func TestSendPathPrefix(t *testing.T) {
	f := twiliofake.New(testSID, testToken)
	var host string
	mux := http.NewServeMux()
	mux.Handle("/api/laml/", http.StripPrefix("/api/laml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		f.Handler().ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tr := newTestTransport(t, srv.URL+"/api/laml/", "")
	if _, err := tr.Send(context.Background(), out("+15551234567", "hi")); err != nil {
		t.Fatal(err)
	}
	if m := f.Messages(); len(m) != 1 || m[0].StatusCallback != "" {
		t.Errorf("messages %+v (want one, without a status callback)", m)
	}
	if want := strings.TrimPrefix(srv.URL, "http://"); host != want {
		t.Errorf("Host %q, want %q", host, want)
	}
}

func TestSendTwilioErrors(t *testing.T) {
	apiErr := func(status, code int, msg string) func(twiliofake.Message) *twiliofake.APIError {
		return func(twiliofake.Message) *twiliofake.APIError {
			return &twiliofake.APIError{Status: status, Code: code, Message: msg}
		}
	}
	cases := []struct {
		fakeSID, fakeToken string // default: ours
		apiPath            string // appended to the fake's URL
		hook               func(twiliofake.Message) *twiliofake.APIError
		rate               int
		to, body           string
		kind               transports.Kind
		code, message      string
	}{
		0:  {to: "555", body: "x", kind: transports.KindInvalidAddress, code: "21211", message: "The 'To' number 555 is not a valid phone number."},
		1:  {to: "", body: "x", kind: transports.KindInvalidAddress, code: "21604", message: "A 'To' phone number is required."},
		2:  {hook: apiErr(400, 21602, "Message body is required."), kind: transports.KindRejected, code: "21602", message: "Message body is required."}, // an empty body never reaches Twilio (TestSendNeverEmpty)
		3:  {hook: apiErr(400, 21617, "The concatenated message body exceeds the 1600 character limit."), kind: transports.KindRejected, code: "21617"}, // a longer body is split (TestSendLong)
		4:  {hook: apiErr(400, 21610, "Attempt to send to unsubscribed recipient"), kind: transports.KindUnreachable, code: "21610", message: "Attempt to send to unsubscribed recipient"},
		5:  {hook: apiErr(400, 21612, "The 'To' phone number is not currently reachable"), kind: transports.KindUnreachable, code: "21612"},
		6:  {hook: apiErr(400, 21408, "Permission to send an SMS has not been enabled"), kind: transports.KindRejected, code: "21408"},
		7:  {hook: apiErr(400, 21614, "'To' number is not a valid mobile number"), kind: transports.KindInvalidAddress, code: "21614"},
		8:  {hook: apiErr(400, 21217, "Phone number does not appear to be valid"), kind: transports.KindInvalidAddress, code: "21217"},
		9:  {hook: apiErr(400, 21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number"), kind: transports.KindRejected, code: "21606"},
		10: {hook: apiErr(500, 20500, "Internal Server Error"), kind: transports.KindUnavailable, code: "20500", message: "Internal Server Error"},
		11: {hook: apiErr(503, 20503, "Service Unavailable"), kind: transports.KindUnavailable, code: "20503"},
		12: {hook: apiErr(429, 20429, "Too Many Requests"), kind: transports.KindRateLimited, code: "20429"},
		13: {hook: apiErr(400, 14107, "Reply rate limit hit"), kind: transports.KindRateLimited, code: "14107"},
		14: {hook: apiErr(400, 21611, "This 'From' number has exceeded the maximum number of queued messages"), kind: transports.KindRateLimited, code: "21611"},
		15: {rate: 1, kind: transports.KindRateLimited, code: "20429", message: "Too Many Requests"}, // the second send
		16: {fakeToken: "other", kind: transports.KindAuth, code: "20003", message: "Authenticate"},
		17: {fakeSID: "ACother", kind: transports.KindAuth, code: "20003"},
		18: {apiPath: "/nowhere", kind: transports.KindAuth, code: "20404"},
		19: {hook: apiErr(403, 20403, "Forbidden"), kind: transports.KindAuth, code: "20403"},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			sid, token := testSID, testToken
			if tc.fakeSID != "" {
				sid = tc.fakeSID
			}
			if tc.fakeToken != "" {
				token = tc.fakeToken
			}
			f, base := startFake(t, sid, token)
			f.OnSend(tc.hook)
			tr := newTestTransport(t, base+tc.apiPath, publicURL)
			to, body := tc.to, tc.body
			if to == "" && tc.code != "21604" {
				to = "+15551234567"
			}
			if body == "" {
				body = "hi"
			}
			if tc.rate > 0 {
				f.SetRateLimit(tc.rate)
				if _, err := tr.Send(context.Background(), out(to, body)); err != nil {
					t.Fatalf("first send: %v", err)
				}
			}
			_, err := tr.Send(context.Background(), out(to, body))
			var e *transports.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *transports.Error", err, err)
			}
			if e.Kind != tc.kind || e.Code != tc.code || e.Provider != "twilio" {
				t.Errorf("got kind %d code %q provider %q, want kind %d code %q", e.Kind, e.Code, e.Provider, tc.kind, tc.code)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

// TestSendHTTPFailures covers answers that are not Twilio's and failures to
// get an answer.
func TestSendHTTPFailures(t *testing.T) {
	date := fixedNow.Add(90 * time.Second).Format(http.TimeFormat)
	cases := []struct {
		status      int
		header      [2]string
		body        string
		kind        transports.Kind
		code, msg   string
		retryAfter  time.Duration
		block, down bool
	}{
		0: {status: 429, header: [2]string{"Retry-After", "7"}, body: `{"code":20429,"message":"Too Many Requests","status":429}`,
			kind: transports.KindRateLimited, code: "20429", msg: "Too Many Requests", retryAfter: 7 * time.Second},
		1: {status: 503, header: [2]string{"Retry-After", date}, body: `{"code":20503,"message":"Service Unavailable","status":503}`,
			kind: transports.KindUnavailable, code: "20503", retryAfter: 90 * time.Second},
		2: {status: 502, body: "<html>Bad Gateway</html>", kind: transports.KindUnavailable, msg: "HTTP 502 without a Twilio error body"},
		3: {status: 429, body: "slow down", kind: transports.KindRateLimited, msg: "HTTP 429 without a Twilio error body"},
		4: {status: 404, body: "not here", kind: transports.KindRejected, msg: "HTTP 404 without a Twilio error body"},
		5: {status: 400, body: `{"message":"bad"}`, kind: transports.KindRejected, msg: "bad"},
		6: {status: 201, body: "{not json", kind: transports.KindUnknown},
		7: {status: 201, body: `{"status":"queued"}`, kind: transports.KindUnknown, msg: "response carries no message sid"},
		8: {block: true, kind: transports.KindUnavailable, msg: "request timed out"},
		9: {down: true, kind: transports.KindUnavailable},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.block {
					select {
					case <-r.Context().Done():
					case <-release:
					}
					return
				}
				if tc.header[0] != "" {
					w.Header().Set(tc.header[0], tc.header[1])
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			defer close(release)
			base := srv.URL
			if tc.down {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				base = "http://" + ln.Addr().String()
				ln.Close()
			}
			tr := newTestTransport(t, base, publicURL)
			ctx := context.Background()
			if tc.block {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			_, err := tr.Send(ctx, out("+15551234567", "hi"))
			var e *transports.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *transports.Error", err, err)
			}
			if e.Kind != tc.kind || e.Code != tc.code || e.RetryAfter != tc.retryAfter {
				t.Errorf("got kind %d code %q retry %v, want kind %d code %q retry %v (%v)",
					e.Kind, e.Code, e.RetryAfter, tc.kind, tc.code, tc.retryAfter, e)
			}
			if tc.msg != "" && e.Message != tc.msg {
				t.Errorf("message %q, want %q", e.Message, tc.msg)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

func TestSendCanceled(t *testing.T) {
	_, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tr.Send(ctx, out("+15551234567", "hi"))
	var e *transports.Error
	if !errors.As(err, &e) || e.Kind != transports.KindUnavailable || e.Message != "request canceled" {
		t.Fatalf("got %v", err)
	}
}

func TestRedact(t *testing.T) {
	tr := newTestTransport(t, "https://api.twilio.com", "")
	if got := tr.redact("a" + testToken + "b"); got != "a[redacted]b" {
		t.Errorf("redact = %q", got)
	}
}

func TestRetryAfter(t *testing.T) {
	for i, tc := range []struct {
		h    string
		want time.Duration
	}{
		0: {"", 0},
		1: {"3", 3 * time.Second},
		2: {" 3 ", 3 * time.Second},
		3: {"-1", 0},
		4: {"soon", 0},
		5: {fixedNow.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		6: {fixedNow.Add(-time.Minute).Format(http.TimeFormat), 0},
		7: {"999999999", 24 * time.Hour},
	} {
		if got := retryAfter(tc.h, fixedNow); got != tc.want {
			t.Errorf("%d: retryAfter(%q) = %v, want %v", i, tc.h, got, tc.want)
		}
	}
}

// SentSince finds, through twilio-go's list call, the messages with the same
// body sent from the same number to the same recipient since a time.
func TestSentSince(t *testing.T) {
	fake := twiliofake.New(testSID, testToken)
	base, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	tr := newTestTransport(t, base, "")
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	out := transports.Outbound{Account: testAlice, To: "+15551234567", Body: "disk full", ID: "1"}
	var sids []string
	for _, o := range []transports.Outbound{out, {Account: testAlice, To: "+15551234567", Body: "other"},
		{Account: testAlice, To: "+15557654321", Body: "disk full"}, out} {
		sid, err := tr.Send(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, sid)
	}
	got, err := tr.SentSince(ctx, out, before)
	if err != nil || len(got) != 2 || got[0] != sids[0] || got[1] != sids[3] {
		t.Errorf("SentSince = %v, %v; want [%s %s]", got, err, sids[0], sids[3])
	}
	if got, _ := tr.SentSince(ctx, out, time.Now().Add(time.Hour)); len(got) != 0 {
		t.Errorf("messages from the future: %v", got)
	}
}

// A provider that answers the listing with a 4xx (other than 408 and 429)
// or 501 cannot be asked what it holds: SentSince says so with
// transports.ErrCannotReconcile, and the core sends again. Other failures
// are a check to make again later. With reconcile: resend nothing is
// listed.
func TestSentSinceCannotList(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused
	cases := []struct {
		reconcile string
		apiURL    string // default: the fake
		status    int    // the fake's answer to the listing
		cannot    bool   // ErrCannotReconcile
		kind      transports.Kind
		lists     int // requests the fake saw
	}{
		0:  {status: 404, cannot: true, kind: transports.KindRejected, lists: 1},
		1:  {status: 405, cannot: true, kind: transports.KindRejected, lists: 1},
		2:  {status: 501, cannot: true, kind: transports.KindUnavailable, lists: 1},
		3:  {status: 401, cannot: true, kind: transports.KindAuth, lists: 1},
		4:  {status: 403, cannot: true, kind: transports.KindAuth, lists: 1},
		5:  {status: 400, cannot: true, kind: transports.KindRejected, lists: 1},
		6:  {status: 500, kind: transports.KindUnavailable, lists: 1},
		7:  {status: 503, kind: transports.KindUnavailable, lists: 1},
		8:  {status: 429, kind: transports.KindRateLimited, lists: 1},
		9:  {status: 408, kind: transports.KindUnavailable, lists: 1},
		10: {apiURL: deadURL, kind: transports.KindUnavailable},
		11: {reconcile: "resend", status: 0, cannot: true, kind: -1},
		12: {reconcile: "resend", status: 404, cannot: true, kind: -1},
		13: {reconcile: "list", status: 0, kind: -2, lists: 1}, // the listing works: no error
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			f.SetListStatus(tc.status)
			before := f.Lists()
			api := base
			if tc.apiURL != "" {
				api = tc.apiURL
			}
			tr, err := New(transports.Params{Name: "sms"}, &Settings{AccountSID: testSID, AuthToken: testToken, APIURL: api,
				Numbers: map[string]string{"alice@example.test": testAlice}, Reconcile: tc.reconcile})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := tr.SentSince(context.Background(), out("+15551234567", "hi"), time.Now().Add(-time.Minute))
			if got := errors.Is(err, transports.ErrCannotReconcile); got != tc.cannot {
				t.Errorf("ErrCannotReconcile %v, want %v (err %v)", got, tc.cannot, err)
			}
			var pe *transports.Error
			switch {
			case tc.kind == -2:
				if err != nil || len(ids) != 0 {
					t.Errorf("SentSince = %v, %v; want none, no error", ids, err)
				}
			case tc.kind == -1:
				if errors.As(err, &pe) {
					t.Errorf("a provider error %v, want none (nothing was asked)", pe)
				}
			case !errors.As(err, &pe) || pe.Kind != tc.kind:
				t.Errorf("err %v, want a %s *transports.Error", err, tc.kind)
			case !tc.cannot && !pe.Temporary():
				t.Errorf("%v is not temporary", pe)
			}
			if n := f.Lists() - before; n != tc.lists {
				t.Errorf("%d list requests, want %d", n, tc.lists)
			}
		})
	}
}

// fastTransport is newTestTransport without the pace of one message a
// second from a number, for sends of several parts.
func fastTransport(t *testing.T, base string) *Transport {
	tr := newTestTransport(t, base, publicURL)
	tr.pace = newPacer(RateLimits{NumberPerSecond: 1000, TotalPerSecond: 1000})
	return tr
}

// Twilio takes up to 1,600 characters a message and refuses more (21617):
// a longer text (the core takes stanzas up to 64 KiB) goes out as several
// SMS in order, cut at a space or a line break, never inside a surrogate
// pair, and Send returns their SIDs joined.
func TestSendLong(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := fastTransport(t, base)
	for _, body := range []string{
		strings.Repeat("word ", 400),                                // 2,000 characters
		strings.Repeat("line of text\n", 300),                       // 3,900
		strings.Repeat("x", 1599) + "😀" + strings.Repeat("y", 1700), // the emoji's pair straddles 1,600
	} {
		before := len(f.Messages())
		o := out("+15551234567", body)
		o.ID = body[:20]
		id, err := tr.Send(context.Background(), o)
		if err != nil {
			t.Fatalf("a %d-character SMS: %v", utf8.RuneCountInString(body), err)
		}
		msgs := f.Messages()[before:]
		var sids, texts []string
		for _, m := range msgs {
			sids, texts = append(sids, m.SID), append(texts, m.Body)
			if n := utf8.RuneCountInString(m.Body); n > maxSMS || strings.TrimSpace(m.Body) == "" || !utf8.ValidString(m.Body) {
				t.Errorf("a part of %d characters: %q…", n, m.Body[:min(len(m.Body), 20)])
			}
			if m.StatusCallback != publicURL+"/status?"+partMarker+"#rc=5&rp=all" {
				t.Errorf("a part's status callback is %q", m.StatusCallback)
			}
		}
		if len(msgs) < 2 || id != strings.Join(sids, ",") {
			t.Errorf("Send = %q; Twilio has %d messages %q", id, len(msgs), sids)
		}
		if strings.Join(strings.Fields(strings.Join(texts, "")), "") != strings.Join(strings.Fields(body), "") {
			t.Errorf("the parts do not add up to the text")
		}
	}
	// A text that fits is one SMS, as before, with the plain callback; so
	// is one that fits but for white space past the limit.
	for _, body := range []string{strings.Repeat("z", maxSMS), strings.Repeat("é", maxSMS) + "\n\n"} {
		before := len(f.Messages())
		id, err := tr.Send(context.Background(), out("+15551234567", body))
		if m := f.Messages()[before:]; err != nil || len(m) != 1 || id != m[0].SID || m[0].StatusCallback != publicURL+"/status#rc=5&rp=all" ||
			strings.TrimSpace(m[0].Body) != strings.TrimSpace(body) {
			t.Errorf("%d characters: %q, %v, %d messages", utf8.RuneCountInString(body), id, err, len(m))
		}
	}
}

// A part that fails for now (a 500) is retried with the job; the parts
// Twilio took are not sent again, and the attachments go with the first.
func TestSendLongResumes(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := fastTransport(t, base)
	n := 0
	f.OnSend(func(twiliofake.Message) *twiliofake.APIError {
		if n++; n == 2 {
			return &twiliofake.APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}
		}
		return nil
	})
	o := out("+15551234567", strings.Repeat("a ", 500)+strings.Repeat("b ", 500))
	o.Media = []string{"https://files.example.org/a.jpg"}
	tr.isPublic = func(context.Context, string) bool { return true }
	_, err := tr.Send(context.Background(), o)
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Fatalf("first attempt: %v, want a temporary error", err)
	}
	id, err := tr.Send(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 2 || id != msgs[0].SID+","+msgs[1].SID {
		t.Fatalf("Send = %q; Twilio has %d messages, want the 2 parts once", id, len(msgs))
	}
	if len(msgs[0].MediaURLs) != 1 || len(msgs[1].MediaURLs) != 0 {
		t.Errorf("attachments %q and %q, want them with the first part", msgs[0].MediaURLs, msgs[1].MediaURLs)
	}
}

// A send of several parts whose outcome is unknown (the gateway died after
// Twilio took parts 1 and 2 of 3) is checked before it is sent again: a
// new transport (no progress in memory) finds the parts at Twilio, and the
// send goes on with part 3. A send Twilio has whole is adopted as one, and
// another job's identical send is told apart.
func TestSentSinceParts(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	body := strings.Repeat("first ", 200) + strings.Repeat("second ", 200) + strings.Repeat("third ", 200)
	o := out("+15551234567", body)
	if n := len(smsParts(o)); n != 3 {
		t.Fatalf("%d parts, want 3", n)
	}

	// An earlier job with the same text, sent whole.
	earlier, err := fastTransport(t, base).Send(ctx, out("+15551234567", body))
	if err != nil {
		t.Fatal(err)
	}
	// This job: parts 1 and 2 taken, then the gateway dies.
	n := 0
	f.OnSend(func(twiliofake.Message) *twiliofake.APIError {
		if n++; n == 3 {
			return &twiliofake.APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}
		}
		return nil
	})
	o.ID = "job2"
	if _, err := fastTransport(t, base).Send(ctx, o); err == nil {
		t.Fatal("want part 3 to fail")
	}
	f.OnSend(nil)
	cut := f.Messages()[3:]

	tr := fastTransport(t, base) // after the restart
	ids, err := tr.SentSince(ctx, o, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != earlier {
		t.Errorf("SentSince = %q, want the earlier job's send %q only (the core skips it: it is known)", ids, earlier)
	}
	id, err := tr.Send(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 6 || id != cut[0].SID+","+cut[1].SID+","+msgs[5].SID {
		t.Errorf("Send after the check = %q; Twilio has %d messages, want 6 (parts 1 and 2 not sent again)", id, len(msgs))
	}
	// Now Twilio has this job's send whole: the check finds it.
	ids, err = fastTransport(t, base).SentSince(ctx, o, since)
	if err != nil || len(ids) != 2 || ids[0] != earlier || ids[1] != id {
		t.Errorf("SentSince = %q, %v, want %q and %q", ids, err, earlier, id)
	}
}

// Delivery reports on the parts of a long SMS are reports on the message:
// delivered once every part is, failed as soon as one fails; a report
// that comes before the send is recorded (Twilio can be faster than its
// API's answer) is kept and passed on once it is.
func TestReportsOnParts(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	sink := &recSink{}
	tr, hooks := hookServer(t, sink)
	tr.apiBase, _ = url.Parse(base)
	tr.pace = newPacer(RateLimits{NumberPerSecond: 1000, TotalPerSecond: 1000})
	ctx := context.Background()
	long := strings.Repeat("a ", 500) + strings.Repeat("b ", 500)

	id, err := tr.Send(ctx, out("+15551234567", long))
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	status := func(m twiliofake.Message, state, code string) {
		t.Helper()
		if st, err := f.SendStatus(ctx, m, state, code); err != nil || st != 200 {
			t.Fatalf("status %s: %d %v", state, st, err)
		}
	}
	status(msgs[1], "delivered", "")
	if _, n := sink.counts(); n != 0 {
		t.Errorf("%d reports after part 2 was delivered, want none before part 1 is", n)
	}
	status(msgs[0], "delivered", "")
	status(msgs[0], "delivered", "") // Twilio posting again
	if len(sink.statuses) < 1 || sink.statuses[0] != (transports.Status{RemoteID: id, State: transports.StateDelivered}) {
		t.Errorf("reports %+v, want delivered on %q", sink.statuses, id)
	}

	// A failure of one part, reported before the send is recorded.
	sink.statuses = nil
	var first string
	f.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
		if first == "" {
			first = m.SID
			return nil
		}
		// Part 2 is being sent: part 1's report comes now.
		if _, err := tr.partReport(ctx, transports.Status{RemoteID: first, State: transports.StateFailed, Code: "30003", Text: "Unreachable destination handset"}, true); err != nil {
			t.Error(err)
		}
		return nil
	})
	o := out("+15551234567", long)
	o.ID = "job2"
	id2, err := tr.Send(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := (transports.Status{RemoteID: id2, State: transports.StateFailed, Code: "30003", Text: "Unreachable destination handset"}); len(sink.statuses) != 1 || sink.statuses[0] != want {
		t.Errorf("reports %+v, want %+v", sink.statuses, want)
	}
	_ = hooks
}

// countBody is how many messages the fake holds with body.
func countBody(f *twiliofake.Fake, body string) int {
	n := 0
	for _, m := range f.Messages() {
		if m.Body == body {
			n++
		}
	}
	return n
}

// A part refused for now (429, 14107, 21611) after Twilio took the parts
// before it is not KindRateLimited: that tells the core nothing was taken,
// and the core would forget that the send began, so that after a restart
// (the progress was in memory) part 1 went out again. It is
// KindUnavailable with Twilio's code: the core checks first, from the
// first attempt, and the send goes on with the part refused. A refusal of
// part 1 is still KindRateLimited.
func TestSendLongRateLimitedAfterAPart(t *testing.T) {
	for _, refusal := range []twiliofake.APIError{
		{Status: 429, Code: 20429, Message: "Too Many Requests"},
		{Status: 400, Code: 14107, Message: "Reply rate limit hit"},
		{Status: 400, Code: 21611, Message: "This 'From' number has exceeded the maximum number of queued messages"},
	} {
		t.Run(strconv.Itoa(refusal.Code), func(t *testing.T) {
			f, base := startFake(t, testSID, testToken)
			ctx := context.Background()
			o := out("+15551234567", strings.Repeat("a ", 500)+strings.Repeat("b ", 500))
			parts := smsParts(o)
			if len(parts) != 2 {
				t.Fatalf("%d parts", len(parts))
			}
			refuse := func(n int32) {
				var calls atomic.Int32
				f.OnSend(func(twiliofake.Message) *twiliofake.APIError {
					if calls.Add(1) == n {
						return &refusal
					}
					return nil
				})
			}

			// Part 1 refused: nothing was taken.
			refuse(1)
			_, err := fastTransport(t, base).Send(ctx, o)
			if pe, _ := err.(*transports.Error); pe == nil || pe.Kind != transports.KindRateLimited {
				t.Errorf("part 1 refused: %v, want KindRateLimited", err)
			}

			// Part 2 refused: part 1 was taken.
			since := time.Now()
			refuse(2)
			_, err = fastTransport(t, base).Send(ctx, o)
			pe, _ := err.(*transports.Error)
			if pe == nil || pe.Kind != transports.KindUnavailable || pe.Code != strconv.Itoa(refusal.Code) {
				t.Fatalf("part 2 refused: %v, want KindUnavailable with code %d", err, refusal.Code)
			}
			f.OnSend(nil)

			// Restart: the core checks from the first attempt (its in-flight
			// mark is kept), then sends.
			tr := fastTransport(t, base)
			if ids, err := tr.SentSince(ctx, o, since.Add(-2*time.Second)); err != nil || len(ids) != 0 {
				t.Fatalf("SentSince = %q, %v; want none", ids, err)
			}
			if _, err := tr.Send(ctx, o); err != nil {
				t.Fatal(err)
			}
			if c1, c2 := countBody(f, parts[0]), countBody(f, parts[1]); c1 != 1 || c2 != 1 {
				t.Errorf("part 1 went out %d times, part 2 %d times; want once each", c1, c2)
			}
		})
	}
}

// partlySent keeps what the provider said of a refusal, its RetryAfter
// too, and changes only its kind.
func TestPartlySent(t *testing.T) {
	e := &transports.Error{Kind: transports.KindRateLimited, Provider: provider, Code: "20429", Message: "Too Many Requests", RetryAfter: 7 * time.Second}
	if got := partlySent(e, nil); got != e {
		t.Errorf("nothing sent: %+v, want the error as it is", got)
	}
	want := *e
	want.Kind = transports.KindUnavailable
	if got := partlySent(e, []string{"SM1"}); *got != want || e.Kind != transports.KindRateLimited {
		t.Errorf("a part sent: %+v, want %+v (and the original unchanged)", got, want)
	}
	for _, k := range []transports.Kind{transports.KindUnavailable, transports.KindUnknown, transports.KindRejected, transports.KindUnreachable} {
		e := &transports.Error{Kind: k, Provider: provider}
		if got := partlySent(e, []string{"SM1"}); got.Kind != k {
			t.Errorf("%s after a part: %s", k, got.Kind)
		}
	}
}

// The parts a job is known to have sent start SentSince's match even when
// the window begins after them: an attempt whose part 2 was taken but
// answered too late is found whole, with the part 1 of an earlier attempt
// that lies before since, and part 2 is not sent again.
func TestSentSinceGoesOnFromKnownParts(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := fastTransport(t, base)
	var n atomic.Int32
	f.OnSend(func(twiliofake.Message) *twiliofake.APIError {
		switch n.Add(1) {
		case 2:
			return &twiliofake.APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}
		case 3:
			time.Sleep(1500 * time.Millisecond) // taken, answered late
		}
		return nil
	})
	o := out("+15551234567", strings.Repeat("a ", 500)+strings.Repeat("b ", 500))
	parts := smsParts(o)
	if _, err := tr.Send(context.Background(), o); err == nil {
		t.Fatal("first attempt: want part 2 to fail")
	}
	time.Sleep(1100 * time.Millisecond) // part 1 lies a second before the window
	since := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err := tr.Send(ctx, o)
	cancel()
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Fatalf("second attempt: %v, want a temporary error (timeout)", err)
	}
	msgs, err := f.Wait(context.Background(), 2) // Twilio stores part 2
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tr.SentSince(context.Background(), o, since)
	if want := msgs[0].SID + "," + msgs[1].SID; err != nil || len(ids) != 1 || ids[0] != want {
		t.Fatalf("SentSince = %q, %v; want [%s]", ids, err, want)
	}
	if c := countBody(f, parts[1]); c != 1 {
		t.Errorf("part 2 went to the phone %d times", c)
	}
	if p := tr.sentSoFar(o.ID); len(p) != 0 {
		t.Errorf("progress %q kept after the send was found whole", p)
	}
	// Without the known parts, a window after part 1 finds nothing.
	if ids, err := fastTransport(t, base).SentSince(context.Background(), o, since); err != nil || len(ids) != 0 {
		t.Errorf("a new transport: SentSince = %q, %v; want none", ids, err)
	}
}

// Twilio's status callbacks come in any order. Reports on a part that
// come before its send is recorded are kept, but a "sent" never replaces
// a "delivered" or "failed" already kept: that lost the delivered report,
// and the message never got its receipt.
func TestEarlyReportsOutOfOrder(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	sink := &recSink{}
	tr, _ := hookServer(t, sink)
	tr.apiBase, _ = url.Parse(base)
	tr.pace = newPacer(RateLimits{NumberPerSecond: 1000, TotalPerSecond: 1000})
	ctx := context.Background()
	var mu sync.Mutex
	var first *twiliofake.Message
	f.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = &m
			return nil
		}
		// Part 2 is being sent: part 1's reports come now, out of order.
		for _, s := range []string{"delivered", "sent"} {
			if st, err := f.SendStatus(ctx, *first, s, ""); err != nil || st != 200 {
				t.Errorf("status %s: %d %v", s, st, err)
			}
		}
		return nil
	})
	id, err := tr.Send(ctx, out("+15551234567", strings.Repeat("a ", 500)+strings.Repeat("b ", 500)))
	if err != nil {
		t.Fatal(err)
	}
	f.OnSend(nil)
	msgs := f.Messages()
	if st, err := f.SendStatus(ctx, msgs[1], "delivered", ""); err != nil || st != 200 {
		t.Fatalf("status: %d %v", st, err)
	}
	sink.mu.Lock()
	got := slices.Clone(sink.statuses)
	sink.mu.Unlock()
	if !slices.Contains(got, transports.Status{RemoteID: id, State: transports.StateDelivered}) {
		t.Errorf("both parts delivered, but no delivered report on %q: %+v", id, got)
	}

	// What is kept of a part's early reports, in each order.
	for i, order := range [][]transports.State{
		{transports.StateDelivered, transports.StateSent},
		{transports.StateFailed, transports.StateSent},
		{transports.StateSent, transports.StateDelivered},
		{transports.StateSent, transports.StateFailed, transports.StateSent},
		{transports.StateSent},
	} {
		sid := fmt.Sprintf("SM%032d", i)
		for _, s := range order {
			if rep, err := tr.partReport(ctx, transports.Status{RemoteID: sid, State: s}, true); rep != nil || err != nil {
				t.Fatalf("an early report: %+v, %v", rep, err)
			}
		}
		want := order[len(order)-1]
		for _, s := range order {
			if final(s) {
				want = s
			}
		}
		v, _ := tr.get(ctx, pendingKey(sid))
		if kept, _ := decodeStatus(sid, v); kept.State != want {
			t.Errorf("after %v, %q is kept, want %q", order, kept.State, want)
		}
	}
}

// A body of white space alone past 1,600 characters with an attachment is
// not empty, but has no part of text: it is sent as one SMS with the
// attachment alone (nothing was sent, and Send returned "", nil).
func TestSendLongWhiteSpaceWithMedia(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := fastTransport(t, base)
	tr.isPublic = func(context.Context, string) bool { return true }
	o := out("+15551234567", strings.Repeat(" ", 1700)+strings.Repeat("\n", 10))
	o.Media = []string{"https://files.example.org/a.jpg"}
	id, err := tr.Send(context.Background(), o)
	msgs := f.Messages()
	if err != nil || len(msgs) != 1 || id != msgs[0].SID {
		t.Fatalf("Send = %q, %v; Twilio has %d messages, want 1", id, err, len(msgs))
	}
	if m := msgs[0]; m.Body != "" || len(m.MediaURLs) != 1 || m.MediaURLs[0] != o.Media[0] {
		t.Errorf("sent body %q with %q, want the attachment alone", m.Body, m.MediaURLs)
	}
	// The check before a retry finds it.
	if ids, err := tr.SentSince(context.Background(), o, time.Now().Add(-time.Minute)); err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("SentSince = %q, %v; want [%s]", ids, err, id)
	}
	// Without an attachment there is nothing to send.
	o.Media = nil
	if _, err := tr.Send(context.Background(), o); err == nil {
		t.Error("white space alone was taken")
	}
}
