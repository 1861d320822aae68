package telegram

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// mediaGet GETs u and returns the status, the headers and the body.
func mediaGet(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestMediaNotActive (issue 12, item 4): files from Telegram are served
// from public_url's origin, so none may run there as a page. An HTML
// document is a download, not a page; renaming it in the URL breaks the
// signature; a photo is an inline image. Every answer, errors included,
// carries nosniff and a sandboxing CSP.
func TestMediaNotActive(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	fake.UserSendsDocument(dm, alice, "", "invoice.html", "text/html", []byte("<html><script>alert(document.cookie)</script></html>"))
	fake.UserSendsDocument(dm, alice, "", "x.bin", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))
	fake.UserSendsPhoto(dm, alice, "", []byte("\xff\xd8\xff\xe0 a photo"))
	got := sink.waitInbound(t, 3)
	srv := httptest.NewServer(http.StripPrefix("/media/telegram", tr.Media()))
	defer srv.Close()
	local := func(u string) string { return srv.URL + strings.TrimPrefix(u, "https://gw.example.test") }
	html, svg, photo := local(got[0].Media[0]), local(got[1].Media[0]), local(got[2].Media[0])
	if !strings.HasSuffix(html, "/invoice.html") || !strings.HasSuffix(svg, "/x.bin") {
		t.Fatalf("media URLs %q %q", html, svg)
	}
	tests := []struct {
		url         string
		status      int
		ctype, disp string
	}{
		{html, 200, "application/octet-stream", "attachment; filename=invoice.html"},
		{svg, 200, "application/octet-stream", "attachment; filename=x.bin"},
		{photo, 200, "image/jpeg", "inline; filename=photo.jpg"},
		{strings.TrimSuffix(html, "invoice.html") + "x.svg", 404, "text/plain; charset=utf-8", ""},
		{strings.TrimSuffix(html, "invoice.html") + "invoice.jpg", 404, "text/plain; charset=utf-8", ""},
		{strings.TrimSuffix(photo, "photo.jpg") + "photo.svg", 404, "text/plain; charset=utf-8", ""},
	}
	for i, tt := range tests {
		status, h, _ := mediaGet(t, tt.url)
		if status != tt.status || h.Get("Content-Type") != tt.ctype || h.Get("Content-Disposition") != tt.disp ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
			t.Errorf("%02d GET %s: %d, Content-Type %q, Content-Disposition %q, nosniff %q, CSP %q; want %d %q %q",
				i, tt.url, status, h.Get("Content-Type"), h.Get("Content-Disposition"), h.Get("X-Content-Type-Options"),
				h.Get("Content-Security-Policy"), tt.status, tt.ctype, tt.disp)
		}
	}
}

// TestMediaExpiry: a media URL carries its expiry (the transport's
// MediaTTL), covered by the signature.
func TestMediaExpiry(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	now := time.Unix(1_700_000_000, 0)
	tr.signer = transports.NewMediaSigner([]byte("test key"), time.Hour, func() time.Time { return now })
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	fake.UserSendsPhoto(dm, alice, "", []byte("\xff\xd8\xff\xe0 a photo"))
	u := sink.waitInbound(t, 1)[0].Media[0]
	if !strings.Contains(u, "/1700003600/") {
		t.Fatalf("media URL %q has no expiry an hour on", u)
	}
	srv := httptest.NewServer(http.StripPrefix("/media/telegram", tr.Media()))
	defer srv.Close()
	local := srv.URL + strings.TrimPrefix(u, "https://gw.example.test")
	tests := []struct {
		at     time.Time
		url    string
		status int
	}{
		{now.Add(59 * time.Minute), local, 200},
		{now.Add(time.Hour), local, 200},
		{now.Add(time.Hour + time.Second), local, 404},
		{now, strings.Replace(local, "/1700003600/", "/1800003600/", 1), 404}, // a later expiry, same signature
	}
	for i, tt := range tests {
		now = tt.at
		if status, _, _ := mediaGet(t, tt.url); status != tt.status {
			t.Errorf("%02d GET %s at +%v: %d, want %d", i, tt.url, tt.at.Sub(time.Unix(1_700_000_000, 0)), status, tt.status)
		}
	}
}

// TestMediaCutShort: Telegram's file server breaking off in the middle of
// a file sent without a length is a failed transfer for the client, not a
// 200 whose short body ends cleanly.
func TestMediaCutShort(t *testing.T) {
	fake := botfake.New(testToken)
	t.Cleanup(fake.Close)
	h := fake.Handler()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/file/") {
			io.WriteString(w, "%PDF-1.4\n"+strings.Repeat("x", 10000))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
		MediaURL: "https://gw.example.test/media/telegram", State: &memKV{}},
		&Settings{Token: testToken, APIURL: api.URL, Mode: ModePolling})
	if err != nil {
		t.Fatal(err)
	}
	tr.pollTimeout = time.Second
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	fake.UserSendsDocument(dm, alice, "", "report.pdf", "application/pdf", make([]byte, 20000))
	in := sink.waitInbound(t, 1)[0]
	srv := httptest.NewServer(http.StripPrefix("/media/telegram", tr.Media()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + strings.TrimPrefix(in.Media[0], "https://gw.example.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && err == nil {
		t.Errorf("200 with %d bytes and no error: a cut file looked complete", len(b))
	}
}

// TestInboundFileTooLarge: Telegram's Bot API lets bots download files of
// up to 20 MB (a user may send 2 GB); a server in local mode serves any,
// of which the gateway relays up to 50 MB. A larger file gets no link,
// which could never work, but a note naming it and its size in the body.
func TestInboundFileTooLarge(t *testing.T) {
	const mb = 1 << 20
	hosted, _ := newTest(t, ModePolling, nil)
	local, _ := newTest(t, ModePolling, nil)
	local.s.LocalMode = true
	tests := []struct {
		tr   *Transport
		msg  tgbotapi.Message
		link bool
		note string
	}{
		0: {hosted, tgbotapi.Message{Document: &tgbotapi.Document{FileID: "D", FileName: "holiday.mp4", FileSize: 20 * mb}}, true, ""},
		1: {hosted, tgbotapi.Message{Document: &tgbotapi.Document{FileID: "D", FileName: "holiday.mp4", FileSize: 20*mb + 1}}, false,
			"[holiday.mp4 (20.1 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"},
		2: {hosted, tgbotapi.Message{Video: &tgbotapi.Video{FileID: "V", FileSize: 1536 * mb}}, false,
			"[file (1536.0 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"},
		3: {hosted, tgbotapi.Message{Audio: &tgbotapi.Audio{FileID: "A", FileName: "talk.m4a", FileSize: 25 * mb}}, false,
			"[talk.m4a (25.0 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"},
		4: {hosted, tgbotapi.Message{Document: &tgbotapi.Document{FileID: "D", FileName: "a.pdf"}}, true, ""}, // size unknown
		5: {local, tgbotapi.Message{Document: &tgbotapi.Document{FileID: "D", FileName: "holiday.mp4", FileSize: 21 * mb}}, true, ""},
		6: {local, tgbotapi.Message{Animation: &tgbotapi.Animation{FileID: "G", FileName: "cat.mp4", FileSize: 50*mb + mb/2}}, false,
			"[cat.mp4 (50.5 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]"},
	}
	for i, tt := range tests {
		urls, note := tt.tr.media(&tt.msg)
		if (len(urls) == 1) != tt.link || note != tt.note {
			t.Errorf("%02d: %q, %q; want a link %v, note %q", i, urls, note, tt.link, tt.note)
		}
	}

	// Through the Bot API: the note follows the caption; no link.
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	fake.UserSendsDocument(dm, alice, "our holiday", "holiday.mp4", "video/mp4", make([]byte, 21*mb))
	in := sink.waitInbound(t, 1)[0]
	want := "our holiday\n[holiday.mp4 (21.0 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"
	if in.Body != want || len(in.Media) != 0 {
		t.Errorf("inbound %q with media %q; want %q and none", in.Body, in.Media, want)
	}
}

// TestMediaRequestsBounded: anyone holding one media URL could otherwise
// start any number of getFile calls and downloads at once. At most
// mediaAtOnce are served at once (an album of 10 opened at once never
// waits), and transports.MediaPerURL of one URL; the others wait for a
// slot and are served as those before them finish, not refused.
func TestMediaRequestsBounded(t *testing.T) {
	for i, c := range []struct {
		files, opens, limit int
	}{
		0: {10, 1, mediaAtOnce},              // an album
		1: {mediaAtOnce + 5, 1, mediaAtOnce}, // more than the bound
		2: {1, 5, transports.MediaPerURL},    // one URL, five times
		3: {3, 5, mediaAtOnce},               // three URLs, five times each
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			fake := botfake.New(testToken)
			t.Cleanup(fake.Close)
			h := fake.Handler()
			gate := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(gate) }) }
			t.Cleanup(release)
			var held atomic.Int32
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/file/") { // the download waits
					held.Add(1)
					<-gate
				}
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(api.Close)
			tr, err := New(transports.Params{Name: "telegram", Domain: "telegram.example.test",
				MediaURL: "https://gw.example.test/media/telegram", State: &memKV{}},
				&Settings{Token: testToken, APIURL: api.URL, Mode: ModePolling})
			if err != nil {
				t.Fatal(err)
			}
			tr.pollTimeout = time.Second
			sink := newSink()
			sink.linked["111"] = "alice@example.test"
			run(t, tr, sink)
			fake.UserSendsPhoto(dm, alice, "", []byte("\xff\xd8\xff\xe0 a photo"))
			in := sink.waitInbound(t, 1)[0]
			srv := httptest.NewServer(http.StripPrefix("/media/telegram", tr.Media()))
			defer srv.Close()
			// The photo under other names: other URLs, each signed.
			fileID := strings.Split(strings.TrimPrefix(in.Media[0], "https://gw.example.test/media/telegram/"), "/")[2]
			var urls []string
			for f := range c.files {
				name := "photo" + strconv.Itoa(f) + ".jpg"
				u := srv.URL + "/media/telegram/" + tr.signer.Sign(0, fileID, name) + "/" + fileID + "/" + name
				for range c.opens {
					urls = append(urls, u)
				}
			}
			limit := min(c.limit, c.files*transports.MediaPerURL)
			waiting := func() int { _, n := tr.mediaLoad.Load(); return n }
			transporttest.MediaBurst(t, urls, limit, func() int { return int(held.Load()) }, waiting, release)
		})
	}
}
