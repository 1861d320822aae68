package sms

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// hookServer serves tr's webhooks at /hooks/sms/ like the core does, with
// PublicURL equal to the server's own URL so that signatures match.
func hookServer(t *testing.T, sink transports.Sink) (*Transport, string) {
	t.Helper()
	var h http.Handler
	mux := http.NewServeMux()
	mux.Handle("/hooks/sms/", http.StripPrefix("/hooks/sms", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tr := newTestTransport(t, "https://api.twilio.com", srv.URL+"/hooks/sms")
	h = tr.Webhooks(sink)
	return tr, srv.URL + "/hooks/sms"
}

func TestInboundEndToEnd(t *testing.T) {
	sink := &recSink{}
	_, hooks := hookServer(t, sink)
	f := twiliofake.New(testSID, testToken)
	ctx := context.Background()

	sid, status, err := f.SendInbound(ctx, hooks+"/inbound", "+1 555 123 4567", testAlice, "hi there")
	if err != nil || status != 200 {
		t.Fatalf("SendInbound: %d %v", status, err)
	}
	want := []transports.Inbound{{Account: testAlice, From: "+15551234567", ID: sid, Body: "hi there", Time: fixedNow}}
	if !reflect.DeepEqual(sink.inbound, want) {
		t.Fatalf("delivered %+v\nwant %+v", sink.inbound, want)
	}
	// A replay is delivered again: deduping on ID is the core's job.
	if st, err := f.PostForm(ctx, hooks+"/inbound", f.InboundForm(sid, "+15551234567", testAlice, "hi there")); err != nil || st != 200 {
		t.Fatalf("replay: %d %v", st, err)
	}
	if n, _ := sink.counts(); n != 2 || sink.inbound[1].ID != sid {
		t.Errorf("after replay: %+v", sink.inbound)
	}
	// Signed for another URL (as if Twilio called a different host).
	wrong := twiliofake.New(testSID, testToken)
	req, _ := http.NewRequest(http.MethodPost, hooks+"/inbound", strings.NewReader(
		wrong.InboundForm(sid, "+15551234567", testAlice, "x").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliofake.Sign(testToken, "https://elsewhere.example/hooks/sms/inbound",
		wrong.InboundForm(sid, "+15551234567", testAlice, "x")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("signed for another URL: %d", resp.StatusCode)
	}
}

func TestStatusEndToEnd(t *testing.T) {
	sink := &recSink{}
	tr, hooks := hookServer(t, sink)
	f, base := startFake(t, testSID, testToken)
	tr.apiBase, _ = url.Parse(base)
	ctx := context.Background()
	sid, err := tr.Send(ctx, out("+15551234567", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Messages()[0]
	if m.StatusCallback != hooks+"/status#rc=5&rp=all" {
		t.Fatalf("StatusCallback %q", m.StatusCallback)
	}
	for _, s := range []struct{ status, code string }{{"queued", ""}, {"sent", ""}, {"undelivered", "30003"}} {
		if st, err := f.SendStatus(ctx, m, s.status, s.code); err != nil || st != 200 {
			t.Fatalf("SendStatus(%s): %d %v", s.status, st, err)
		}
	}
	want := []transports.Status{
		{RemoteID: sid, State: transports.StateSent},
		{RemoteID: sid, State: transports.StateFailed, Code: "30003", Text: "Unreachable destination handset"},
	}
	if !reflect.DeepEqual(sink.statuses, want) {
		t.Errorf("reported %+v\nwant %+v", sink.statuses, want)
	}
}

// The status callback of every message sent asks Twilio to retry any
// failure (#rc=5&rp=all): without it a report answered 503 is never
// retried. The fragment is not sent; a callback signed over the URL
// without it (as Twilio's request is) or with it (the URL the gateway
// set) is taken, on /status only and only with these overrides.
func TestStatusCallbackRetried(t *testing.T) {
	sink := &recSink{}
	tr, hooks := hookServer(t, sink)
	f, base := startFake(t, testSID, testToken)
	tr.apiBase, _ = url.Parse(base)
	tr.pace = newPacer(RateLimits{NumberPerSecond: 1000, TotalPerSecond: 1000})
	ctx := context.Background()
	for _, body := range []string{"hi", strings.Repeat("a ", 500) + strings.Repeat("b ", 500)} {
		before := len(f.Messages())
		if _, err := tr.Send(ctx, out("+15551234567", body)); err != nil {
			t.Fatal(err)
		}
		for _, m := range f.Messages()[before:] {
			cb, frag, _ := strings.Cut(m.StatusCallback, "#")
			if !strings.HasPrefix(cb, hooks+"/status") || frag != "rc=5&rp=all" {
				t.Fatalf("StatusCallback %q, want %s/status...#rc=5&rp=all", m.StatusCallback, hooks)
			}
			form := url.Values{"MessageSid": {m.SID}, "AccountSid": {testSID}, "MessageStatus": {"sent"}}
			post := func(signedFor, to string) int {
				t.Helper()
				req, _ := http.NewRequest(http.MethodPost, to, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", twiliofake.Sign(testToken, signedFor, form))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			// The fake signs the callback URL as set, fragment and all.
			if st, err := f.SendStatus(ctx, m, "sent", ""); err != nil || st != 200 {
				t.Errorf("a callback signed over %q: %d %v", m.StatusCallback, st, err)
			}
			if st := post(cb, m.StatusCallback); st != 200 {
				t.Errorf("a callback signed over %q: %d", cb, st)
			}
			if st := post(cb+"#rc=1", m.StatusCallback); st != 403 {
				t.Errorf("a callback signed over another fragment: %d, want 403", st)
			}
			sink.mu.Lock()
			sink.err = errSink
			sink.mu.Unlock()
			if st := post(cb, m.StatusCallback); st != 503 {
				t.Errorf("a report the store cannot take: %d, want 503 (Twilio retries it)", st)
			}
			sink.mu.Lock()
			sink.err = nil
			sink.mu.Unlock()
		}
	}
	// The inbound webhook's URL is the operator's: its fragment is not
	// signed over.
	in := twiliofake.New(testSID, testToken)
	if _, st, err := in.SendInbound(ctx, hooks+"/inbound#rc=5&rp=all", "+15551234567", testAlice, "hi"); err != nil || st != 403 {
		t.Errorf("an inbound webhook signed over the overrides: %d %v, want 403", st, err)
	}
}

// whURL is the public URL the table tests sign for.
const whURL = "https://gw.example.test/hooks/sms"

type hookReq struct {
	method, path, ctype string
	form                url.Values
	raw                 string // body instead of form
	sig                 string // "" = sign correctly; "-" = no header
}

func (r hookReq) do(h http.Handler) *httptest.ResponseRecorder {
	body := r.raw
	if r.form != nil {
		body = r.form.Encode()
	}
	method, ctype := r.method, r.ctype
	if method == "" {
		method = http.MethodPost
	}
	if ctype == "" {
		ctype = "application/x-www-form-urlencoded"
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+r.path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	switch r.sig {
	case "":
		form, _ := url.ParseQuery(body)
		req.Header.Set("X-Twilio-Signature", twiliofake.Sign(testToken, whURL+r.path, form))
	case "-":
	default:
		req.Header.Set("X-Twilio-Signature", r.sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func inboundForm(mod func(url.Values)) url.Values {
	f := url.Values{
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"},
		"AccountSid": {testSID},
		"From":       {"+15551234567"},
		"To":         {"+15550001111"},
		"Body":       {"hello"},
		"NumMedia":   {"0"},
	}
	if mod != nil {
		mod(f)
	}
	return f
}

func statusForm(status, code string) url.Values {
	f := url.Values{
		"MessageSid":    {"SM0123456789abcdef0123456789abcdef"},
		"AccountSid":    {testSID},
		"MessageStatus": {status},
	}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f
}

func TestWebhooks(t *testing.T) {
	const sid = "SM0123456789abcdef0123456789abcdef"
	cases := []struct {
		req      hookReq
		sinkErr  error
		status   int
		body     string // substring of the response body
		inbound  []transports.Inbound
		statuses []transports.Status
	}{
		0: {req: hookReq{path: "/inbound", form: inboundForm(nil)}, status: 200, body: emptyTwiML,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "+15551234567", ID: sid, Body: "hello", Time: fixedNow}}},
		1: {req: hookReq{path: "/inbound", form: inboundForm(nil), sig: "-"}, status: 403},
		2: {req: hookReq{path: "/inbound", form: inboundForm(nil), sig: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, status: 403},
		3: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("AccountSid", "ACother") })}, status: 403},
		4: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Del("AccountSid") })}, status: 403},
		5: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("Body", strings.Repeat("x", 70<<10)) })}, status: 413},
		6: {req: hookReq{path: "/inbound", raw: "a=%zz"}, status: 400},
		7: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Del("MessageSid") })}, status: 400, body: "missing MessageSid"},
		8: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Del("From") })}, status: 400, body: "missing From"},
		9: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Del("To") })}, status: 400, body: "missing To"},
		// A "+" that is no number: kept as the sender's name, not refused
		// (Twilio does not retry a 4xx: the SMS would be lost).
		10: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "+12") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "#+12", ID: sid, Body: "hello", Time: fixedNow}}},
		11: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("To", "nope") })}, status: 400, body: "invalid To"},
		12: {req: hookReq{path: "/inbound", form: inboundForm(nil)}, sinkErr: errSink, status: 503},
		13: {req: hookReq{method: http.MethodGet, path: "/inbound"}, status: 405},
		14: {req: hookReq{path: "/other", form: inboundForm(nil)}, status: 404},
		15: {req: hookReq{path: "/inbound", form: inboundForm(nil), ctype: "application/json"}, status: 415},
		16: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) {
			f.Set("From", "+1 555-123-4567") // formatted: normalised
			f.Set("Body", "")
			f.Set("NumMedia", "1")
		})}, status: 200, inbound: []transports.Inbound{{Account: "+15550001111", From: "+15551234567", ID: sid, Time: fixedNow,
			Body: "[1 attachment(s) could not be relayed]"}}},
		17: {req: hookReq{path: "/status", form: statusForm("queued", "")}, status: 200},
		18: {req: hookReq{path: "/status", form: statusForm("accepted", "")}, status: 200},
		19: {req: hookReq{path: "/status", form: statusForm("sending", "")}, status: 200},
		20: {req: hookReq{path: "/status", form: statusForm("sent", "")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateSent}}},
		21: {req: hookReq{path: "/status", form: statusForm("delivered", "")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateDelivered}}},
		22: {req: hookReq{path: "/status", form: statusForm("undelivered", "30007")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateFailed, Code: "30007", Text: "Carrier violation (filtered)"}}},
		23: {req: hookReq{path: "/status", form: statusForm("failed", "30008")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateFailed, Code: "30008", Text: "Unknown error"}}},
		24: {req: hookReq{path: "/status", form: statusForm("failed", "30410")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateFailed, Code: "30410", Text: "delivery failed"}}},
		25: {req: hookReq{path: "/status", form: func() url.Values {
			f := statusForm("failed", "30999")
			f.Set("ErrorMessage", "Provider timeout")
			return f
		}()}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateFailed, Code: "30999", Text: "Provider timeout"}}},
		26: {req: hookReq{path: "/status", form: statusForm("delivered", "")}, sinkErr: errSink, status: 503},
		27: {req: hookReq{path: "/status", form: statusForm("", "")}, status: 400},
		28: {req: hookReq{path: "/status", form: statusForm("delivered", ""), sig: "-"}, status: 403},
		29: {req: hookReq{path: "/status", form: statusForm("failed", "30003")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateFailed, Code: "30003", Text: "Unreachable destination handset"}}},
		30: {req: hookReq{path: "/status?token=abc", form: statusForm("sent", "")}, status: 200,
			statuses: []transports.Status{{RemoteID: sid, State: transports.StateSent}}},
		31: {req: hookReq{path: "/", form: inboundForm(nil)}, status: 404},
		// A sender id: #, then the id in lower case (as the JID is), so
		// that OnCall is no team inbox room oncall@.
		32: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "MyBank") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "#mybank", ID: sid, Body: "hello", Time: fixedNow}}},
		33: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "72345") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "72345", ID: sid, Body: "hello", Time: fixedNow}}},
		// A captured webhook reshaped under its signature: NumMedia folded
		// into MessageSid.
		34: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) {
			f.Del("NumMedia")
			f.Set("MessageSid", sid+"NumMedia0")
		})}, status: 400, body: "invalid MessageSid"},
		35: {req: hookReq{path: "/status", form: func() url.Values {
			f := statusForm("delivered", "")
			f.Set("MessageSid", sid+"MessageStatusdelivered")
			return f
		}()}, status: 400, body: "invalid MessageSid"},
		36: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("MessageSid", "SM0123") })}, status: 400,
			body: "invalid MessageSid"},
		37: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("SmsMessageSid", sid+"SmsSid"+sid) })},
			status: 400, body: "SmsMessageSid is not MessageSid"},
		38: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) {
			f.Set("SmsMessageSid", sid)
			f.Set("SmsSid", sid)
		})}, status: 200, inbound: []transports.Inbound{{Account: "+15550001111", From: "+15551234567", ID: sid, Body: "hello", Time: fixedNow}}},
		39: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("MessageSid", "0f8e2c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6") })},
			status: 200, inbound: []transports.Inbound{{Account: "+15550001111", From: "+15551234567", ID: "0f8e2c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
				Body: "hello", Time: fixedNow}}},
		// 9 digits or more without "+" are a national number of
		// default_region, formatted or not.
		40: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "555-123-4567") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "+15551234567", ID: sid, Body: "hello", Time: fixedNow}}},
		41: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "OnCall") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "#oncall", ID: sid, Body: "hello", Time: fixedNow}}},
		42: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("From", "on.call") })}, status: 200,
			inbound: []transports.Inbound{{Account: "+15550001111", From: "#on.call", ID: sid, Body: "hello", Time: fixedNow}}},
		// To is one of the gateway's numbers, never a sender's name.
		43: {req: hookReq{path: "/inbound", form: inboundForm(func(f url.Values) { f.Set("To", "#mybank") })}, status: 400, body: "invalid To"},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tr := newTestTransport(t, "https://api.twilio.com", whURL)
			sink := &recSink{err: tc.sinkErr}
			w := tc.req.do(tr.Webhooks(sink))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%q)", w.Code, tc.status, w.Body.String())
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q, want it to contain %q", w.Body.String(), tc.body)
			}
			if tc.status == 200 && tc.req.path == "/inbound" && w.Header().Get("Content-Type") != "text/xml" {
				t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
			}
			if fmt.Sprint(sink.inbound) != fmt.Sprint(tc.inbound) {
				t.Errorf("delivered %+v\nwant %+v", sink.inbound, tc.inbound)
			}
			if fmt.Sprint(sink.statuses) != fmt.Sprint(tc.statuses) {
				t.Errorf("reported %+v\nwant %+v", sink.statuses, tc.statuses)
			}
			if strings.Contains(w.Body.String(), testToken) {
				t.Error("response reveals the token")
			}
		})
	}
}

func TestRun(t *testing.T) {
	tr := newTestTransport(t, "https://api.twilio.com", whURL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Run(ctx, &recSink{}); err != nil {
		t.Fatal(err)
	}
}

// FuzzInboundWebhook posts arbitrary form bodies, signed or not, and checks
// that the handler neither panics nor delivers anything it should not.
func FuzzInboundWebhook(f *testing.F) {
	f.Add(inboundForm(nil).Encode(), true, false, uint8(0))
	f.Add(inboundForm(nil).Encode(), false, false, uint8(0))
	for _, from := range []string{"OnCall", "on.call", "#mybank", "80888", "+12"} {
		f.Add(inboundForm(func(v url.Values) { v.Set("From", from) }).Encode(), true, false, uint8(0))
	}
	f.Add(statusForm("failed", "30003").Encode(), true, false, uint8(1))
	f.Add(statusForm("delivered", "").Encode(), true, true, uint8(1))
	f.Add("From=%2B15551234567&To=5550001111&MessageSid=SM1", true, true, uint8(0))
	f.Add("a=%zz&b", true, true, uint8(0))
	f.Add("", false, false, uint8(2))
	tr := newTestTransport(f, "https://api.twilio.com", whURL)
	f.Fuzz(func(t *testing.T, body string, signed, fixAccount bool, which uint8) {
		path := []string{"/inbound", "/status", "/x"}[int(which)%3]
		if fixAccount {
			if form, err := url.ParseQuery(body); err == nil {
				form.Set("AccountSid", testSID)
				body = form.Encode()
			}
		}
		sig := "-"
		if signed {
			sig = ""
		}
		sink := &recSink{}
		w := hookReq{path: path, raw: body, sig: sig}.do(tr.Webhooks(sink))
		switch w.Code {
		case 200, 400, 403, 404, 413:
		default:
			t.Fatalf("status %d for %s %q", w.Code, path, body)
		}
		nIn, nSt := sink.counts()
		if w.Code != 200 && nIn+nSt != 0 {
			t.Fatalf("status %d but %d delivered, %d reported", w.Code, nIn, nSt)
		}
		if !signed && nIn+nSt != 0 {
			t.Fatalf("unsigned request delivered")
		}
		for _, in := range sink.inbound {
			// The sender makes a JID, no team inbox room's whatever its
			// name; a reply to that JID (case-folded) goes where the SMS
			// came from, or nowhere (an opaque sender's), never to a
			// number or sender id it did not come from.
			j, err := mapping.ContactJID(in.From, "sms.example.test")
			if err != nil {
				t.Fatalf("an SMS from %q, which makes no JID: %v", in.From, err)
			}
			if roomName.MatchString(j.Localpart()) {
				t.Fatalf("an SMS from %q arrives from %s, a room's JID", in.From, j)
			}
			for _, a := range []string{string(in.From), mapping.AddrOf(j)} {
				if again, err := tr.ParseAddr(a); err == nil && again != in.From {
					t.Fatalf("an SMS from %q, a reply to %q goes to %q", in.From, a, again)
				} else if err != nil && !strings.HasPrefix(string(in.From), senderMark) {
					t.Fatalf("an SMS from the number %q, a reply to %q is refused: %v", in.From, a, err)
				}
			}
			if again, err := tr.ParseAddr(string(in.Account)); err != nil || again != in.Account {
				t.Fatalf("delivered a non-normalised address %q", in.Account)
			}
		}
	})
}

// Twilio posts a phone number's From in E.164 ("+49..."); a From without
// "+" is a short code or an alphanumeric sender id. With a default_region
// whose national numbers may be that short (DE, AT, NL, IT...), reading it
// as a national number would make the short code 80888 +4980888, and a
// reply from XMPP would go to that number, a stranger's.
func TestShortCodeSenderIsNotANationalNumber(t *testing.T) {
	sink := &recSink{}
	var h http.Handler
	mux := http.NewServeMux()
	mux.Handle("/hooks/sms/", http.StripPrefix("/hooks/sms", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, region := range []string{"DE", "AT", "NL", "IT", "US"} {
		tr, err := New(transports.Params{Name: "sms", Domain: "sms.example.test", PublicURL: srv.URL + "/hooks/sms"}, &Settings{
			AccountSID: testSID, AuthToken: testToken, APIURL: "https://api.twilio.com",
			DefaultRegion: region,
			Numbers:       map[string]string{"alice@example.test": "+4915112345678"},
		})
		if err != nil {
			t.Fatal(err)
		}
		h = tr.Webhooks(sink)
		f := twiliofake.New(testSID, testToken)
		_, status, err := f.SendInbound(context.Background(), srv.URL+"/hooks/sms/inbound", "80888", "+4915112345678", "Your code is 123456")
		if err != nil || status != 200 {
			t.Fatalf("%s: SendInbound: %d %v", region, status, err)
		}
		sink.mu.Lock()
		got := sink.inbound[len(sink.inbound)-1].From
		sink.mu.Unlock()
		if got != "80888" {
			t.Errorf("default_region %s: an SMS from the short code 80888 arrives from %q: replies would go to that number", region, got)
		}
	}
}

// A From that is neither a phone number in E.164 nor a short code nor a
// sender id is never answered 400, which Twilio does not retry: 9 digits
// or more without "+" are a national number of default_region (an MSISDN
// as many SMS gateways write it), as before; anything else is kept as an
// opaque sender that makes a JID (XEP-0106 escaped), to which no reply can
// go, never to a national number of 8 digits or fewer. A sender id and an
// opaque sender start with "#", so that neither is a team inbox's room.
func TestInboundFromOfAnyForm(t *testing.T) {
	sink := &recSink{}
	tr, hooks := hookServer(t, sink)
	f := twiliofake.New(testSID, testToken)
	for _, tc := range []struct {
		from string
		want transports.Addr
		name bool // an opaque sender: no reply goes to it
	}{
		{"15551234567", "+15551234567", false},
		{"5551234567", "+15551234567", false},
		{"(555) 123-4567", "+15551234567", false},
		{"+15551234567", "+15551234567", false},
		{"80888", "80888", false},
		{"MyBank", "#mybank", false}, // a reply goes to Twilio, which refuses it
		{"808-88", "#808-88", true},  // not read as a national number
		{"+12", "#+12", true},
		{"123456789", "#123456789", true}, // no US number
		{"Bank\u00e9 @home/x", "#Bank%C3%A9%20@home/x", true},
		{"a%b\tc", "#a%25b%09c", true},
		{"   ", "#%20%20%20", true},
		{"+1 555 INFO", "#+1%20555%20INFO", true},
		{strings.Repeat("\u20ac", 40), transports.Addr("#" + strings.Repeat("%E2%82%AC", 7)), true},
	} {
		n, _ := sink.counts()
		_, status, err := f.SendInbound(context.Background(), hooks+"/inbound", tc.from, testAlice, "hello")
		if err != nil || status != 200 {
			t.Errorf("From %q: %d %v, want 200", tc.from, status, err)
			continue
		}
		sink.mu.Lock()
		got := sink.inbound[n].From
		sink.mu.Unlock()
		if got != tc.want {
			t.Errorf("From %q arrives from %q, want %q", tc.from, got, tc.want)
		}
		if _, err := mapping.ContactJID(got, "sms.example.test"); err != nil {
			t.Errorf("From %q: %q makes no JID: %v", tc.from, got, err)
		}
		again, err := tr.ParseAddr(string(got))
		switch {
		case tc.name && err == nil:
			t.Errorf("From %q: a reply to %q goes to %q", tc.from, got, again)
		case !tc.name && (err != nil || again != got):
			t.Errorf("From %q: a reply to %q goes to %q, %v", tc.from, got, again, err)
		}
	}
}
