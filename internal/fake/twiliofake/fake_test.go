package twiliofake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "tok3n"
)

var sidRE = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

type apiResult struct {
	status int
	body   map[string]any
}

// post sends a Messages create request with the given credentials and path.
func post(t *testing.T, base, user, pass, path string, form url.Values) apiResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return apiResult{resp.StatusCode, body}
}

const msgPath = "/2010-04-01/Accounts/" + testSID + "/Messages.json"

func TestAPI(t *testing.T) {
	long := strings.Repeat("a", 1601)
	good := url.Values{"To": {"+15551234567"}, "From": {"+15550001111"}, "Body": {"hi"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		user, pass, path, method string
		form                     url.Values
		status, code             int
		message                  string
	}{
		0:  {testSID, testToken, msgPath, "", good, 201, 0, ""},
		1:  {"", "", msgPath, "", good, 401, 20003, "Authenticate"},
		2:  {testSID, "wrong", msgPath, "", good, 401, 20003, "Authenticate"},
		3:  {"ACother", testToken, msgPath, "", good, 401, 20003, "Authenticate"},
		4:  {testSID, testToken, "/2010-04-01/Accounts/ACother/Messages.json", "", good, 404, 20404, "The requested resource /2010-04-01/Accounts/ACother/Messages.json was not found"},
		5:  {testSID, testToken, "/2010-04-01/Accounts/" + testSID + "/Calls.json", "", good, 404, 20404, ""},
		6:  {testSID, testToken, strings.Replace(msgPath, "Messages", "Calls", 1), http.MethodGet, good, 404, 20404, ""},
		7:  {testSID, testToken, msgPath, "", with("To", ""), 400, 21604, "A 'To' phone number is required."},
		8:  {testSID, testToken, msgPath, "", with("From", ""), 400, 21603, "A 'From' phone number is required."},
		9:  {testSID, testToken, msgPath, "", with("To", "555-1234"), 400, 21211, "The 'To' number 555-1234 is not a valid phone number."},
		10: {testSID, testToken, msgPath, "", with("To", "+05551234567"), 400, 21211, ""},
		11: {testSID, testToken, msgPath, "", with("Body", ""), 400, 21602, "Message body is required."},
		12: {testSID, testToken, msgPath, "", with("Body", long), 400, 21617, ""},
		13: {testSID, testToken, msgPath, "", url.Values{"To": {"+15551234567"}, "From": {"+15550001111"}, "MediaUrl": {"https://example.com/a.png"}}, 201, 0, ""},
		14: {testSID, testToken, msgPath, "", with("Body", strings.Repeat("é", 1600)), 201, 0, ""},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			f := New(testSID, testToken)
			srv := httptest.NewServer(f.Handler())
			defer srv.Close()
			var res apiResult
			if tc.method == http.MethodGet {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
				req.SetBasicAuth(tc.user, tc.pass)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				res.status = resp.StatusCode
				json.NewDecoder(resp.Body).Decode(&res.body)
			} else {
				res = post(t, srv.URL, tc.user, tc.pass, tc.path, tc.form)
			}
			if res.status != tc.status {
				t.Fatalf("status %d, want %d (body %v)", res.status, tc.status, res.body)
			}
			if tc.status != 201 {
				if got := int(res.body["code"].(float64)); got != tc.code {
					t.Errorf("code %d, want %d", got, tc.code)
				}
				if int(res.body["status"].(float64)) != tc.status {
					t.Errorf("status field %v, want %d", res.body["status"], tc.status)
				}
				if want := "https://www.twilio.com/docs/errors/" + strconv.Itoa(tc.code); res.body["more_info"] != want {
					t.Errorf("more_info %v, want %s", res.body["more_info"], want)
				}
				if tc.message != "" && res.body["message"] != tc.message {
					t.Errorf("message %q, want %q", res.body["message"], tc.message)
				}
				if n := len(f.Messages()); n != 0 {
					t.Errorf("%d messages stored after an error", n)
				}
				return
			}
			msgs := f.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages stored, want 1", len(msgs))
			}
			m := msgs[0]
			sid, _ := res.body["sid"].(string)
			if !sidRE.MatchString(sid) || sid != m.SID {
				t.Errorf("sid %q, stored %q", sid, m.SID)
			}
			for k, want := range map[string]string{
				"account_sid": testSID, "to": tc.form.Get("To"), "from": tc.form.Get("From"),
				"body": tc.form.Get("Body"), "status": "queued", "direction": "outbound-api",
				"api_version": "2010-04-01", "uri": "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + ".json",
			} {
				if res.body[k] != want {
					t.Errorf("%s = %v, want %q", k, res.body[k], want)
				}
			}
			if _, err := time.Parse(time.RFC1123Z, res.body["date_created"].(string)); err != nil {
				t.Errorf("date_created: %v", err)
			}
			if m.To != tc.form.Get("To") || m.From != tc.form.Get("From") || m.Body != tc.form.Get("Body") {
				t.Errorf("stored %+v", m)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	for i, tc := range []struct {
		body string
		want int
	}{
		0: {"", 1},
		1: {strings.Repeat("a", 160), 1},
		2: {strings.Repeat("a", 161), 2},
		3: {strings.Repeat("a", 306), 2},
		4: {strings.Repeat("a", 307), 3},
		5: {strings.Repeat("é", 70), 1},
		6: {strings.Repeat("é", 71), 2},
	} {
		if got := Segments(tc.body); got != tc.want {
			t.Errorf("%d: Segments = %d, want %d", i, got, tc.want)
		}
	}
}

func TestOnSend(t *testing.T) {
	f := New(testSID, testToken)
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	var seen []Message
	f.OnSend(func(m Message) *APIError {
		seen = append(seen, m)
		if m.To == "+15559999999" {
			return &APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
		}
		return nil
	})
	good := url.Values{"To": {"+15551234567"}, "From": {"+15550001111"}, "Body": {"hi"}, "StatusCallback": {"https://gw/status"}}
	if r := post(t, srv.URL, testSID, testToken, msgPath, good); r.status != 201 {
		t.Fatalf("status %d", r.status)
	}
	bad := url.Values{"To": {"+15559999999"}, "From": {"+15550001111"}, "Body": {"hi"}}
	r := post(t, srv.URL, testSID, testToken, msgPath, bad)
	if r.status != 400 || r.body["code"].(float64) != 21610 || r.body["message"] != "Attempt to send to unsubscribed recipient" {
		t.Fatalf("got %d %v", r.status, r.body)
	}
	if len(seen) != 2 || seen[0].StatusCallback != "https://gw/status" {
		t.Errorf("hook saw %+v", seen)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}

func TestRateLimit(t *testing.T) {
	f := New(testSID, testToken)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	f.SetRateLimit(2)
	send := func(from string) int {
		return post(t, srv.URL, testSID, testToken, msgPath,
			url.Values{"To": {"+15551234567"}, "From": {from}, "Body": {"hi"}}).status
	}
	for i, tc := range []struct {
		advance time.Duration
		from    string
		want    int
	}{
		0: {0, "+15550000001", 201},
		1: {0, "+15550000001", 201},
		2: {0, "+15550000001", 429},
		3: {0, "+15550000002", 201}, // buckets are per From
		4: {500 * time.Millisecond, "+15550000001", 201},
		5: {0, "+15550000001", 429},
		6: {10 * time.Second, "+15550000001", 201},
		7: {0, "+15550000001", 201},
		8: {0, "+15550000001", 429},
	} {
		now = now.Add(tc.advance)
		if got := send(tc.from); got != tc.want {
			t.Errorf("%d: status %d, want %d", i, got, tc.want)
		}
	}
	if n := f.Count429(); n != 3 {
		t.Errorf("Count429 = %d, want 3", n)
	}
	f.SetRateLimit(0)
	if got := send("+15550000001"); got != 201 {
		t.Errorf("unlimited: status %d", got)
	}
}

func TestStartWait(t *testing.T) {
	f := New(testSID, testToken)
	base, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			post(t, base, testSID, testToken, msgPath,
				url.Values{"To": {"+15551234567"}, "From": {"+15550001111"}, "Body": {strconv.Itoa(i)}})
		})
	}
	msgs, err := f.Wait(ctx, 3)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Wait: %d messages, %v", len(msgs), err)
	}
	wg.Wait()
	short, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := f.Wait(short, 4); err != context.Canceled {
		t.Errorf("Wait on a canceled context: %v", err)
	}
	f.Close()
	f.Close()
}

// TestWebhooks checks that what the fake posts verifies with twilio-go's own
// validator, against the URL it was posted to.
func TestWebhooks(t *testing.T) {
	type got struct {
		url, sig, ua, ctype string
		form                url.Values
	}
	var mu sync.Mutex
	var reqs []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		reqs = append(reqs, got{"http://" + r.Host + r.URL.RequestURI(), r.Header.Get("X-Twilio-Signature"),
			r.Header.Get("User-Agent"), r.Header.Get("Content-Type"), r.PostForm})
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	f := New(testSID, testToken)
	ctx := context.Background()

	sid, status, err := f.SendInbound(ctx, srv.URL+"/hooks/sms/inbound", "+15551234567", "+15550001111", "hello & bye")
	if err != nil || status != http.StatusTeapot || !sidRE.MatchString(sid) {
		t.Fatalf("SendInbound: %q %d %v", sid, status, err)
	}
	m := Message{SID: sid, From: "+15550001111", To: "+15551234567", StatusCallback: srv.URL + "/hooks/sms/status?x=1"}
	if _, err := f.SendStatus(ctx, m, "undelivered", "30003"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SendStatus(ctx, Message{SID: sid}, "sent", ""); err == nil {
		t.Error("SendStatus without a callback succeeded")
	}
	if _, err := f.PostForm(ctx, srv.URL+"/x", url.Values{"A": {"2", "1"}, "B": {""}}); err != nil {
		t.Fatal(err)
	}

	v := client.NewRequestValidator(testToken)
	for i, r := range reqs {
		params := map[string]string{}
		for k, vs := range r.form {
			params[k] = vs[0]
		}
		ok := v.Validate(r.url, params, r.sig)
		if i < 2 && !ok {
			t.Errorf("%d: signature %q does not verify for %s", i, r.sig, r.url)
		}
		if r.ua != "TwilioProxy/1.1" || r.ctype != "application/x-www-form-urlencoded" {
			t.Errorf("%d: User-Agent %q, Content-Type %q", i, r.ua, r.ctype)
		}
	}
	in := reqs[0].form
	for k, want := range map[string]string{
		"MessageSid": sid, "AccountSid": testSID, "From": "+15551234567", "To": "+15550001111",
		"Body": "hello & bye", "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
	} {
		if in.Get(k) != want {
			t.Errorf("inbound %s = %q, want %q", k, in.Get(k), want)
		}
	}
	st := reqs[1].form
	for k, want := range map[string]string{
		"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003", "AccountSid": testSID,
		"From": "+15550001111", "To": "+15551234567",
	} {
		if st.Get(k) != want {
			t.Errorf("status %s = %q, want %q", k, st.Get(k), want)
		}
	}
	// Repeated keys: each value, sorted, as Twilio's libraries do.
	if want := Sign(testToken, srv.URL+"/x", url.Values{"A": {"1", "2"}, "B": {""}}); reqs[2].sig != want {
		t.Errorf("repeated keys: signature %q, want %q", reqs[2].sig, want)
	}
}

// TestSignKnown checks Sign against the example in Twilio's security docs.
func TestSignKnown(t *testing.T) {
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

// GET Messages.json lists what was created, newest first, filtered by To
// and From, as twilio-go's ListMessage reads it.
func TestList(t *testing.T) {
	f := New(testSID, testToken)
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	for _, to := range []string{"+15551230001", "+15551230002", "+15551230001"} {
		form := url.Values{"To": {to}, "From": {"+15550001111"}, "Body": {"hi " + to}}
		if res := post(t, srv.URL, testSID, testToken, msgPath, form); res.status != 201 {
			t.Fatalf("create: %d", res.status)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+msgPath+"?To=%2B15551230001&From=%2B15550001111&PageSize=10", nil)
	req.SetBasicAuth(testSID, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Messages []struct {
			SID, To, Body string
		} `json:"messages"`
		NextPageURI *string `json:"next_page_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d, %v", resp.StatusCode, err)
	}
	all := f.Messages()
	if len(page.Messages) != 2 || page.Messages[0].SID != all[2].SID || page.Messages[1].SID != all[0].SID || page.NextPageURI != nil {
		t.Errorf("listed %+v", page)
	}
}

// SetListStatus turns the listing into what an endpoint with only POST
// Messages.json answers; sends still work.
func TestSetListStatus(t *testing.T) {
	f := New(testSID, testToken)
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	cases := []struct {
		set    int
		status int
		allow  string
		body   string
	}{
		0: {404, 404, "", "Not Found\n"},
		1: {405, 405, "POST", "Method Not Allowed\n"},
		2: {501, 501, "", "Not Implemented\n"},
		3: {401, 401, "", "Unauthorized\n"},
		4: {0, 200, "", ""},
	}
	for i, tc := range cases {
		f.SetListStatus(tc.set)
		if res := post(t, srv.URL, testSID, testToken, msgPath, url.Values{"To": {"+15551230001"}, "From": {"+15550001111"}, "Body": {"hi"}}); res.status != 201 {
			t.Errorf("%d: send answered %d", i, res.status)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+msgPath, nil)
		req.SetBasicAuth(testSID, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%d: list answered %d, Allow %q; want %d, %q", i, resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
		}
		if tc.body != "" && string(b) != tc.body {
			t.Errorf("%d: body %q, want %q", i, b, tc.body)
		}
		if f.Lists() != i+1 {
			t.Errorf("%d: Lists() = %d, want %d", i, f.Lists(), i+1)
		}
	}
	if n := len(f.Messages()); n != len(cases) {
		t.Errorf("%d messages sent, want %d", n, len(cases))
	}
}
