package sms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// mediaEnv is a transport on apiURL whose webhooks and media are served
// like the core does: /hooks/sms/ and /media/sms/.
type mediaEnv struct {
	tr    *Transport
	sink  *recSink
	hooks string // public URL of the webhooks
	media string // public URL of the media
}

func newMediaEnv(t *testing.T, apiURL, token string) *mediaEnv {
	t.Helper()
	e := &mediaEnv{sink: &recSink{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.hooks, e.media = srv.URL+"/hooks/sms", srv.URL+"/media/sms"
	tr, err := New(transports.Params{Name: "sms", PublicURL: e.hooks, MediaURL: e.media, State: &memKV{}}, &Settings{
		AccountSID: testSID, AuthToken: token, APIURL: apiURL,
		Numbers: map[string]string{"alice@example.test": testAlice},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.now = func() time.Time { return fixedNow }
	e.tr = tr
	mux.Handle("/hooks/sms/", http.StripPrefix("/hooks/sms", tr.Webhooks(e.sink)))
	mux.Handle("/media/sms/", http.StripPrefix("/media/sms", tr.Media()))
	return e
}

// memKV is the transport's state in tests.
type memKV = transporttest.KV

func get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestInboundMMS(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	e := newMediaEnv(t, base, testToken)
	sid, src, status, err := f.SendInboundMMS(context.Background(), e.hooks+"/inbound", "+15551234567", testAlice, "look", "image/jpeg", []byte("JPEGDATA"))
	if err != nil || status != 200 {
		t.Fatalf("SendInboundMMS: %d %v", status, err)
	}
	if !strings.HasPrefix(src, base+"/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+"/Media/ME") {
		t.Errorf("fake media URL %q", src)
	}
	want := e.media + "/" + e.tr.signedPath(0, sid+"/0.jpg", "in", sid, "0.jpg")
	if len(e.sink.inbound) != 1 {
		t.Fatalf("delivered %+v", e.sink.inbound)
	}
	in := e.sink.inbound[0]
	if in.Body != "look" || !reflect.DeepEqual(in.Media, []string{want}) {
		t.Fatalf("delivered body %q media %q, want %q", in.Body, in.Media, want)
	}
	if strings.Contains(in.Media[0], testToken) || strings.Contains(in.Media[0], base) {
		t.Errorf("media URL leaks the token or the API: %s", in.Media[0])
	}
	code, ctype, body := get(t, want)
	if code != 200 || ctype != "image/jpeg" || body != "JPEGDATA" {
		t.Errorf("GET media: %d %q %q", code, ctype, body)
	}
	if n := f.MediaFetches(); n != 1 {
		t.Errorf("fake served %d media, want 1", n)
	}
	// Bad signatures, a wrong index or name, a method: 404/405, Twilio
	// not asked.
	sig0 := e.tr.signedPath(0, "", "in", sid, "0.jpg") // "<sig>/<exp>/"
	for _, bad := range []string{
		e.media + "/AAAAAAAAAAAAAAAAAAAAAA/" + strings.Split(sig0, "/")[1] + "/" + sid + "/0.jpg",
		e.media + "/" + sig0 + sid + "/1.jpg",
		e.media + "/" + sig0 + sid + "/0.html", // renamed
		e.media + "/" + sig0 + sid + "/0",
		e.media + "/" + e.tr.signedPath(0, sid+"/1.jpg", "in", sid, "1.jpg"), // signed but never received
		e.media + "/" + sig0 + "SMother/0.jpg",
		e.media + "/" + e.tr.signedPath(0, sid+"/0.jpg", "out", sid, "0.jpg"),
		e.media + "/" + strings.Split(sig0, "/")[0] + "/" + sid + "/0.jpg",
		e.media + "/" + sid + "/0.jpg",
		e.media + "/",
	} {
		if code, _, _ := get(t, bad); code != 404 {
			t.Errorf("GET %s: %d, want 404", bad, code)
		}
	}
	if n := f.MediaFetches(); n != 1 {
		t.Errorf("fake served %d media, want 1", n)
	}
	resp, err := http.Post(want, "text/plain", nil)
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("POST media: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

// TestInboundMediaElsewhere: a MediaUrl outside the API's host is never
// fetched (with the account's credentials or at all).
func TestInboundMediaElsewhere(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(evil.Close)
	e := newMediaEnv(t, base, testToken)
	sid := "MM0123456789abcdef0123456789abcdef"
	form := f.InboundMMSForm(sid, "+15551234567", testAlice, "hi",
		twiliofake.Medium{URL: evil.URL + "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + "/Media/ME1", ContentType: "image/png"},
		twiliofake.Medium{URL: f.AddMedia(sid, "image/png", []byte("PNG")), ContentType: "image/png"},
		twiliofake.Medium{URL: "file:///etc/passwd", ContentType: "text/plain"})
	if st, err := f.PostForm(context.Background(), e.hooks+"/inbound", form); err != nil || st != 200 {
		t.Fatalf("post: %d %v", st, err)
	}
	in := e.sink.inbound[0]
	want := []string{e.media + "/" + e.tr.signedPath(0, sid+"/1.png", "in", sid, "1.png")}
	if in.Body != "hi\n[2 attachment(s) could not be relayed]" || !reflect.DeepEqual(in.Media, want) {
		t.Fatalf("delivered %q %q, want media %q", in.Body, in.Media, want)
	}
	// Even signed, medium 0 is unknown.
	if code, _, _ := get(t, e.media+"/"+e.tr.signedPath(0, sid+"/0.png", "in", sid, "0.png")); code != 404 {
		t.Errorf("medium 0: %d", code)
	}
	if code, _, body := get(t, want[0]); code != 200 || body != "PNG" {
		t.Errorf("medium 1: %d %q", code, body)
	}
	if hits.Load() != 0 {
		t.Errorf("the foreign host got %d requests", hits.Load())
	}
}

// TestTwilioMediaAuth: the fake wants Basic auth for media, and the gateway
// gives it; with wrong credentials the gateway answers 502.
func TestTwilioMediaAuth(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	src := f.AddMedia("MM1", "image/gif", []byte("GIF89a"))
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	var apiErr struct {
		Code   int `json:"code"`
		Status int `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&apiErr)
	resp.Body.Close()
	if resp.StatusCode != 401 || apiErr.Code != 20003 || apiErr.Status != 401 {
		t.Errorf("unauthenticated GET: %d %+v", resp.StatusCode, apiErr)
	}

	e := newMediaEnv(t, base, "wrongToken1") // its own webhooks are signed with this token
	form := url.Values{"MessageSid": {"MM1"}, "NumMedia": {"1"}, "MediaUrl0": {src}, "MediaContentType0": {"image/gif"}}
	urls, dropped, err := e.tr.inboundMedia(context.Background(), "MM1", form)
	if err != nil || dropped != 0 || len(urls) != 1 {
		t.Fatalf("inboundMedia: %q %d %v", urls, dropped, err)
	}
	if code, _, body := get(t, urls[0]); code != 502 || strings.Contains(body, "wrongToken1") {
		t.Errorf("GET with wrong credentials: %d %q", code, body)
	}
}

// TestMediaRedirectAndLimits: Twilio redirects media to a CDN; the
// credentials do not follow. Failures are 502, oversize files 413.
func TestMediaRedirectAndLimits(t *testing.T) {
	var cdnAuth atomic.Value
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnAuth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "audio/ogg")
		io.WriteString(w, "OGGDATA")
	}))
	t.Cleanup(cdn.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testSID || p != testToken {
			w.WriteHeader(401)
			return
		}
		switch path.Base(r.URL.Path) {
		case "MEredirect":
			http.Redirect(w, r, cdn.URL+"/signed?Expires=1", http.StatusTemporaryRedirect)
		case "MEbig":
			w.Header().Set("Content-Length", strconv.Itoa(maxMedia+1))
			w.WriteHeader(200)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(api.Close)
	e := newMediaEnv(t, api.URL, testToken)
	prefix := api.URL + "/2010-04-01/Accounts/" + testSID + "/Messages/MM2/Media/"
	form := url.Values{"NumMedia": {"3"},
		"MediaUrl0": {prefix + "MEredirect"}, "MediaContentType0": {"audio/ogg"},
		"MediaUrl1": {prefix + "MEbig"}, "MediaContentType1": {"video/mp4"},
		"MediaUrl2": {prefix + "MEgone"}, "MediaContentType2": {"image/jpeg"}}
	urls, _, err := e.tr.inboundMedia(context.Background(), "MM2", form)
	if err != nil || len(urls) != 3 {
		t.Fatalf("inboundMedia: %q %v", urls, err)
	}
	for i, ext := range []string{".ogg", ".mp4", ".jpg"} {
		if !strings.HasSuffix(urls[i], "/MM2/"+strconv.Itoa(i)+ext) {
			t.Errorf("url %d: %s", i, urls[i])
		}
	}
	if code, ctype, body := get(t, urls[0]); code != 200 || ctype != "audio/ogg" || body != "OGGDATA" {
		t.Errorf("redirected: %d %q %q", code, ctype, body)
	}
	if a, _ := cdnAuth.Load().(string); a != "" {
		t.Errorf("the CDN got Authorization %q", a)
	}
	if code, _, _ := get(t, urls[1]); code != 413 {
		t.Errorf("oversize: %d, want 413", code)
	}
	if code, _, _ := get(t, urls[2]); code != 502 {
		t.Errorf("Twilio 404: %d, want 502", code)
	}
}

// TestSendMedia: public attachment URLs go to Twilio as they are; others
// through the gateway, which fetches them when Twilio asks.
func TestSendMedia(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	var fetches atomic.Int32
	upload := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if r.URL.Path != "/upload/abc/cat.jpg" {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "CATJPEG")
	}))
	t.Cleanup(upload.Close)
	e := newMediaEnv(t, base, testToken)
	private := upload.URL + "/upload/abc/cat.jpg"
	public := "https://cdn.example.com/dog.png"
	e.tr.isPublic = func(_ context.Context, u string) bool { return strings.HasPrefix(u, "https://cdn.example.com/") }
	setPolicy(t, e.tr, []string{"127.0.0.1"}, nil) // the upload server is on the gateway's host

	o := out("+15551234567", "")
	o.Media = []string{private, public}
	sid, err := e.tr.Send(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Messages()[0]
	enc := base64.RawURLEncoding.EncodeToString([]byte(private))
	gw := e.media + "/out/" + e.tr.signedPath(outboundTTL, enc, "out", private)
	if m.SID != sid || m.Body != "" || !reflect.DeepEqual(m.MediaURLs, []string{gw, public}) {
		t.Fatalf("sent %+v, want media %q", m, []string{gw, public})
	}
	if fetches.Load() != 0 {
		t.Errorf("fetched %d times before Twilio asked", fetches.Load())
	}
	if code, ctype, body := get(t, m.MediaURLs[0]); code != 200 || ctype != "image/jpeg" || body != "CATJPEG" {
		t.Errorf("GET gateway URL: %d %q %q", code, ctype, body)
	}
	// Not an open proxy: another URL, or a tampered signature, is 404.
	other := upload.URL + "/upload/abc/other.jpg"
	sigExp := e.tr.signedPath(outboundTTL, "", "out", private)
	for _, bad := range []string{
		e.media + "/out/" + sigExp + base64.RawURLEncoding.EncodeToString([]byte(other)),
		e.media + "/out/" + e.tr.signedPath(outboundTTL, enc, "in", private),
		e.media + "/out/x/" + strings.Split(sigExp, "/")[1] + "/" + enc,
		e.media + "/out/" + sigExp + "!!",
		e.media + "/out/" + strings.Split(sigExp, "/")[0] + "/" + enc,
	} {
		if code, _, _ := get(t, bad); code != 404 {
			t.Errorf("GET %s: %d, want 404", bad, code)
		}
	}
	if fetches.Load() != 1 {
		t.Errorf("origin fetched %d times, want 1", fetches.Load())
	}
	// The origin failing is 502.
	o.Media = []string{upload.URL + "/upload/gone.jpg"}
	o.Body = "caption"
	if _, err := e.tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	m = f.Messages()[1]
	if m.Body != "caption" || len(m.MediaURLs) != 1 {
		t.Fatalf("sent %+v", m)
	}
	if code, _, _ := get(t, m.MediaURLs[0]); code != 502 {
		t.Errorf("origin 404: %d, want 502", code)
	}
}

func TestSendMediaRefused(t *testing.T) {
	_, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL) // serves no media
	o := out("+15551234567", "x")
	setPolicy(t, tr, []string{"127.0.0.1"}, nil)
	for _, media := range [][]string{
		{"http://127.0.0.1:1/a.jpg"}, // private (allowed), and nowhere to serve it from
		{"file:///etc/passwd"},
		strings.Split(strings.Repeat("https://cdn.example.com/a.jpg ", 11), " ")[:11],
	} {
		o.Media = media
		_, err := tr.Send(context.Background(), o)
		pe, ok := err.(*transports.Error)
		if !ok || pe.Kind != transports.KindRejected {
			t.Errorf("media %q: %v, want KindRejected", media[0], err)
		}
	}
	// Not allowed comes first.
	setPolicy(t, tr, nil, nil)
	o.Media = []string{"http://127.0.0.1:1/a.jpg"}
	if _, err := tr.Send(context.Background(), o); err == nil || err.(*transports.Error).Kind != transports.KindNotAllowed {
		t.Errorf("media on loopback: %v, want KindNotAllowed", err)
	}
}

func TestExtFor(t *testing.T) {
	for ct, want := range map[string]string{
		"image/jpeg": ".jpg", "image/png": ".png", "audio/ogg": ".ogg", "video/mp4": ".mp4",
		"text/vcard": ".vcf", "image/jpeg; charset=x": ".jpg", "": "", "application/x-unknown-thing": "",
	} {
		if got := extFor(ct); got != want {
			t.Errorf("extFor(%q) = %q, want %q", ct, got, want)
		}
	}
}

// An MMS with more media than a message carries (10) counts the rest as
// left out, so the user is told; a NumMedia that is no number is read from
// the media present.
func TestInboundMediaCount(t *testing.T) {
	e := newMediaEnv(t, "https://api.twilio.test", testToken)
	prefix := "https://api.twilio.test/2010-04-01/Accounts/" + testSID + "/Messages/MM3/Media/"
	media := func(numMedia string, n int) url.Values {
		f := url.Values{"NumMedia": {numMedia}}
		for i := range n {
			f.Set("MediaUrl"+strconv.Itoa(i), prefix+"ME"+strconv.Itoa(i))
			f.Set("MediaContentType"+strconv.Itoa(i), "image/jpeg")
		}
		return f
	}
	for _, tc := range []struct {
		form          url.Values
		kept, dropped int
	}{
		{media("12", 12), 10, 2},
		{media(" 3", 3), 3, 0},
		{media("three", 2), 2, 0},
		{media("0", 0), 0, 0},
	} {
		urls, dropped, err := e.tr.inboundMedia(context.Background(), "MM3", tc.form)
		if err != nil || len(urls) != tc.kept || dropped != tc.dropped {
			t.Errorf("NumMedia %q: %d kept, %d dropped, %v; want %d, %d", tc.form.Get("NumMedia"), len(urls), dropped, err, tc.kept, tc.dropped)
		}
	}
}

// TestMediaCutShort: an origin that breaks off in the middle of a file of
// unknown size (chunked) is a failed transfer for whoever reads the
// gateway's URL (Twilio), not a 200 whose short body ends cleanly.
func TestMediaCutShort(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	upload := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "\xff\xd8\xff\xe0"+strings.Repeat("x", 10000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the origin breaks off
	}))
	t.Cleanup(upload.Close)
	e := newMediaEnv(t, base, testToken)
	setPolicy(t, e.tr, []string{"127.0.0.1"}, nil)
	o := out("+15551234567", "")
	o.Media = []string{upload.URL + "/cut.jpg"}
	if _, err := e.tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(f.Messages()[0].MediaURLs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && err == nil {
		t.Errorf("200 with %d bytes and no error: a cut file looked complete", len(b))
	}
}

// TestMediaRequestsBounded: anyone holding one media URL could otherwise
// start any number of Twilio API calls (inbound media) or fetches from a
// user's server (outbound attachments) at once. At most inMediaAtOnce and
// outMediaAtOnce reach them at once, and transports.MediaPerURL of one URL;
// the others wait for a slot and are served as those before them finish,
// not refused: neither XMPP clients nor Twilio retry a 503. One MMS's 10
// media, opened at once, never wait; nor do three MMS's attachments,
// fetched at once by Twilio.
func TestMediaRequestsBounded(t *testing.T) {
	inbound := func(t *testing.T, api *holder, e *mediaEnv, n int) []string {
		var urls []string
		for m := 0; len(urls) < n; m++ {
			sid := "MM" + strconv.Itoa(m)
			form := url.Values{"NumMedia": {strconv.Itoa(min(n-len(urls), maxMediaURLs))}}
			for i := range min(n-len(urls), maxMediaURLs) {
				form.Set("MediaUrl"+strconv.Itoa(i), api.URL+"/2010-04-01/Accounts/"+testSID+"/Messages/"+sid+"/Media/ME"+strconv.Itoa(i))
				form.Set("MediaContentType"+strconv.Itoa(i), "image/jpeg")
			}
			u, _, err := e.tr.inboundMedia(context.Background(), sid, form)
			if err != nil {
				t.Fatal(err)
			}
			urls = append(urls, u...)
		}
		return urls
	}
	outbound := func(t *testing.T, up *holder, e *mediaEnv, n int) []string {
		setPolicy(t, e.tr, []string{"127.0.0.1"}, nil)
		var urls []string
		for i := range n {
			private := up.URL + "/up/" + strconv.Itoa(i) + ".jpg"
			enc := base64.RawURLEncoding.EncodeToString([]byte(private))
			urls = append(urls, e.media+"/out/"+e.tr.signedPath(outboundTTL, enc, "out", private))
		}
		return urls
	}
	same := func(u []string) []string { return []string{u[0], u[0], u[0], u[0], u[0]} }
	for i, c := range []struct {
		name  string
		urls  func(*testing.T, *holder, *mediaEnv) []string
		limit int
		out   bool
	}{
		0: {"one MMS's 10 media", func(t *testing.T, h *holder, e *mediaEnv) []string { return inbound(t, h, e, maxMediaURLs) }, inMediaAtOnce, false},
		1: {"more inbound media than the bound", func(t *testing.T, h *holder, e *mediaEnv) []string { return inbound(t, h, e, inMediaAtOnce+5) }, inMediaAtOnce, false},
		2: {"one inbound URL 5 times", func(t *testing.T, h *holder, e *mediaEnv) []string { return same(inbound(t, h, e, 1)) }, transports.MediaPerURL, false},
		3: {"three MMS's 30 attachments", func(t *testing.T, h *holder, e *mediaEnv) []string { return outbound(t, h, e, 3*maxMediaURLs) }, outMediaAtOnce, true},
		4: {"more attachments than the bound", func(t *testing.T, h *holder, e *mediaEnv) []string { return outbound(t, h, e, outMediaAtOnce+5) }, outMediaAtOnce, true},
		5: {"one attachment's URL 5 times", func(t *testing.T, h *holder, e *mediaEnv) []string { return same(outbound(t, h, e, 1)) }, transports.MediaPerURL, true},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			h := newHolder(t)
			api := h.URL
			if c.out {
				api = "http://127.0.0.1:1"
			}
			e := newMediaEnv(t, api, testToken)
			slots := &e.tr.inLoad
			if c.out {
				slots = &e.tr.outLoad
			}
			waiting := func() int { _, n := slots.Load(); return n }
			transporttest.MediaBurst(t, c.urls(t, h, e), c.limit, h.count, waiting, h.release)
			// Every slot is given back.
			deadline := time.Now().Add(5 * time.Second)
			for serving, waiting := slots.Load(); serving+waiting > 0; serving, waiting = slots.Load() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d slots still taken, %d waiting", c.name, serving, waiting)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// holder is an origin that holds every request until release.
type holder struct {
	*httptest.Server
	gate chan struct{}
	once sync.Once
	held atomic.Int32
}

func newHolder(t *testing.T) *holder {
	h := &holder{gate: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.held.Add(1)
		<-h.gate
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "\xff\xd8\xff\xe0 a jpeg")
	}))
	t.Cleanup(func() { h.release(); h.Close() })
	return h
}

func (h *holder) count() int { return int(h.held.Load()) }
func (h *holder) release()   { h.once.Do(func() { close(h.gate) }) }
