package twiliofake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestMediaURLs(t *testing.T) {
	f := New(testSID, testToken)
	base, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	form := url.Values{"To": {"+15551234567"}, "From": {"+15550001111"},
		"MediaUrl": {"https://a.example/1.jpg", "http://b.example/2.png"}}
	r := post(t, base, testSID, testToken, msgPath, form)
	if r.status != 201 || r.body["num_media"] != "2" || r.body["body"] != "" {
		t.Fatalf("send with media: %d %v", r.status, r.body)
	}
	if m := f.Messages()[0]; !reflect.DeepEqual(m.MediaURLs, []string{"https://a.example/1.jpg", "http://b.example/2.png"}) {
		t.Errorf("stored media %q", m.MediaURLs)
	}
	form["MediaUrl"] = strings.Fields(strings.Repeat("https://a.example/x.jpg ", 11))
	if r := post(t, base, testSID, testToken, msgPath, form); r.status != 400 || r.body["code"] != float64(21623) {
		t.Errorf("11 media: %d %v", r.status, r.body)
	}
	form["MediaUrl"] = []string{"ftp://a.example/x.jpg"}
	if r := post(t, base, testSID, testToken, msgPath, form); r.status != 400 || r.body["code"] != float64(21620) {
		t.Errorf("ftp media: %d %v", r.status, r.body)
	}
}

func TestServeMedia(t *testing.T) {
	f := New(testSID, testToken)
	base, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := f.AddMedia("MM1", "image/png", []byte("PNGDATA"))
	if !strings.HasPrefix(u, base+"/2010-04-01/Accounts/"+testSID+"/Messages/MM1/Media/ME") {
		t.Fatalf("media URL %q", u)
	}
	get := func(user, pass, u string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, ct, body := get(testSID, testToken, u); code != 200 || ct != "image/png" || body != "PNGDATA" {
		t.Errorf("GET: %d %q %q", code, ct, body)
	}
	if code, _, body := get("", "", u); code != 401 || !strings.Contains(body, `"code":20003`) {
		t.Errorf("without auth: %d %q", code, body)
	}
	if code, _, _ := get(testSID, "wrong", u); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _, body := get(testSID, testToken, u+"x"); code != 404 || !strings.Contains(body, `"code":20404`) {
		t.Errorf("unknown medium: %d %q", code, body)
	}
	if f.MediaFetches() != 1 {
		t.Errorf("MediaFetches %d", f.MediaFetches())
	}
}

func TestInboundMMS(t *testing.T) {
	f := New(testSID, testToken)
	f.SetBaseURL("http://fake.example/")
	var got url.Values
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		if r.Header.Get("X-Twilio-Signature") != Sign(testToken, "http://"+r.Host+r.URL.Path, r.PostForm) {
			w.WriteHeader(403)
		}
	}))
	defer hook.Close()
	sid, mu, status, err := f.SendInboundMMS(context.Background(), hook.URL+"/inbound", "+15551234567", "+15550001111", "", "image/jpeg", []byte("J"))
	if err != nil || status != 200 {
		t.Fatalf("SendInboundMMS: %d %v", status, err)
	}
	if !strings.HasPrefix(mu, "http://fake.example/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+"/Media/ME") {
		t.Errorf("media URL %q", mu)
	}
	if got.Get("NumMedia") != "1" || got.Get("MediaUrl0") != mu || got.Get("MediaContentType0") != "image/jpeg" || got.Get("MessageSid") != sid {
		t.Errorf("posted %v", got)
	}
}
