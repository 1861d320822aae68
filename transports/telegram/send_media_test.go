package telegram

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"xmppgw/transports"
)

// fileServer serves files by path with their content types, as an XMPP
// server's upload component would, and counts HEADs and GETs.
type fileServer struct {
	*httptest.Server
	heads, gets atomic.Int32
}

func newFileServer(t *testing.T, files map[string][2]string) *fileServer {
	fs := &fileServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			fs.heads.Add(1)
		} else {
			fs.gets.Add(1)
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f[0] != "" {
			w.Header().Set("Content-Type", f[0])
		}
		io.WriteString(w, f[1])
	}))
	t.Cleanup(fs.Close)
	return fs
}

// setPolicy makes tr fetch users' URLs under a policy allowing allow, with
// host names resolved from hosts (anything else does not exist): no test
// asks a real DNS server.
func setPolicy(t *testing.T, tr *Transport, allow []string, hosts map[string]string) {
	t.Helper()
	p, err := transports.NewFetchPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	tr.policy = p.WithLookup(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if a, ok := hosts[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	})
	tr.fetch = &http.Client{Transport: tr.policy.Transport()}
}

// allowLoopback lets tr fetch from test servers on 127.0.0.1, as an operator
// allows an upload service on the gateway's own host.
func allowLoopback(t *testing.T, tr *Transport) { setPolicy(t, tr, []string{"127.0.0.1"}, nil) }

// publicHosts marks URLs with these prefixes public for the test.
func publicHosts(t *testing.T, prefixes ...string) {
	old := isPublicURL
	t.Cleanup(func() { isPublicURL = old })
	isPublicURL = func(_ context.Context, u string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(u, p) {
				return true
			}
		}
		return false
	}
}

func TestSendMediaUpload(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{
		"/up/cat.jpg":    {"image/jpeg", "JPEGBYTES"},
		"/up/note":       {"audio/ogg", "OGGBYTES"},
		"/up/report.bin": {"", "PDFBYTES"},
		"/up/a.pdf":      {"application/pdf", "%PDF"},
	})
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "m1", Body: "a cat",
		Media: []string{fs.URL + "/up/cat.jpg", fs.URL + "/up/note", fs.URL + "/up/a.pdf"}})
	if err != nil || id != "111:1,2,3" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	got := fake.Media()
	if len(got) != 3 {
		t.Fatalf("fake got %d files: %+v", len(got), got)
	}
	want := []struct{ method, caption, name, data string }{
		{"sendPhoto", "a cat", "cat.jpg", "JPEGBYTES"},
		{"sendVoice", "", "note", "OGGBYTES"},
		{"sendDocument", "", "a.pdf", "%PDF"},
	}
	for i, w := range want {
		g := got[i]
		if g.Method != w.method || g.Caption != w.caption || g.FileName != w.name || string(g.Data) != w.data ||
			g.URL != "" || g.ChatID != 111 || g.MessageID != i+1 {
			t.Errorf("file %d: %+v, want %+v", i, g, w)
		}
	}
	if fs.heads.Load() != 0 || fs.gets.Load() != 3 {
		t.Errorf("file server: %d HEAD, %d GET; want 0, 3", fs.heads.Load(), fs.gets.Load())
	}
	// Sent photos come back with Telegram's message shape.
	if m := fake.SentTo(111)[0]; len(m.Photo) != 1 || m.Caption != "a cat" || m.Photo[0].FileSize != len("JPEGBYTES") {
		t.Errorf("photo message %+v", m)
	}
	// Without a content type the extension decides.
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "m2", Media: []string{fs.URL + "/up/report.bin"}}); err != nil {
		t.Fatal(err)
	}
	if g := fake.Media()[3]; g.Method != "sendDocument" || string(g.Data) != "PDFBYTES" || g.Caption != "" {
		t.Errorf("document %+v", g)
	}
}

func TestSendMediaByURL(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/pic": {"image/png", "PNG"}, "/doc.txt": {"text/plain", "T"}})
	publicHosts(t, fs.URL)
	ctx := testCtx(t)
	// Marked public, the URL goes to Telegram as it is; the fake, like
	// Telegram, cannot fetch 127.0.0.1 and says so.
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "u1", Body: "see", Media: []string{fs.URL + "/pic"}})
	if err == nil {
		t.Fatalf("the fake accepted a loopback URL: %q", id)
	}
	if pe, ok := err.(*transports.Error); !ok || pe.Kind != transports.KindRejected ||
		!strings.Contains(pe.Message, "failed to get HTTP URL content") {
		t.Fatalf("err %v", err)
	}
	if fs.heads.Load() != 1 || fs.gets.Load() != 0 {
		t.Errorf("file server: %d HEAD, %d GET; want 1, 0", fs.heads.Load(), fs.gets.Load())
	}
	// A public name: HEAD fails (no such host), so the extension decides.
	publicHosts(t, "https://cdn.example.invalid/")
	id, err = tr.Send(ctx, transports.Outbound{To: "111", ID: "u2", Body: "see",
		Media: []string{"https://cdn.example.invalid/img/dog.webp", "https://cdn.example.invalid/f/data.csv"}})
	if err != nil || id != "111:1,2" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	got := fake.Media()
	if len(got) != 2 || got[0].Method != "sendPhoto" || got[0].URL != "https://cdn.example.invalid/img/dog.webp" ||
		got[0].Caption != "see" || got[0].Data != nil ||
		got[1].Method != "sendDocument" || got[1].URL != "https://cdn.example.invalid/f/data.csv" || got[1].Caption != "" {
		t.Errorf("fake got %+v", got)
	}
}

func TestSendMediaCaption(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/a.png": {"image/png", "PNG"}})
	ctx := testCtx(t)
	exact := strings.Repeat("é", maxCaption)
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "c1", Body: exact, Media: []string{fs.URL + "/a.png"}}); err != nil {
		t.Fatal(err)
	}
	if g := fake.Media(); len(g) != 1 || g[0].Caption != exact {
		t.Fatalf("1024-char caption: %+v", g)
	}
	long := strings.Repeat("x", maxCaption+1)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "c2", Body: long, Media: []string{fs.URL + "/a.png"}})
	if err != nil || id != "111:2,3" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	sent := fake.SentTo(111)
	if sent[1].Text != long || sent[2].Caption != "" || len(sent[2].Photo) != 1 {
		t.Errorf("long caption: text %d chars, then caption %q", len(sent[1].Text), sent[2].Caption)
	}
}

func TestSendMediaFailures(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/ok.jpg": {"image/jpeg", "J"}})
	ctx := testCtx(t)
	for _, tc := range []struct {
		url  string
		kind transports.Kind
	}{
		{fs.URL + "/gone.jpg", transports.KindRejected},
		{"ftp://example.com/a.jpg", transports.KindRejected},
		{"http://127.0.0.1:1/a.jpg", transports.KindUnavailable},
	} {
		_, err := tr.Send(ctx, transports.Outbound{To: "111", ID: tc.url, Media: []string{tc.url}})
		if pe, ok := err.(*transports.Error); !ok || pe.Kind != tc.kind || strings.Contains(pe.Message, "127.0.0.1") ||
			strings.Contains(pe.Message, "refused") {
			t.Errorf("%s: %v, want kind %v, and no address or network error", tc.url, err, tc.kind)
		}
	}
	// A retry after a partial send does not repeat what was sent.
	var flaky atomic.Int32
	fl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flaky.jpg" && flaky.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "J"+r.URL.Path)
	}))
	t.Cleanup(fl.Close)
	o := transports.Outbound{To: "111", ID: "p1", Body: "x", Media: []string{fl.URL + "/ok.jpg", fl.URL + "/flaky.jpg"}}
	_, err := tr.Send(ctx, o)
	if pe, ok := err.(*transports.Error); !ok || pe.Kind != transports.KindUnavailable {
		t.Fatalf("first try: %v", err)
	}
	id, err := tr.Send(ctx, o)
	if err != nil || id != "111:1,2" {
		t.Fatalf("retry = %q, %v", id, err)
	}
	got := fake.Media()
	if len(got) != 2 || string(got[0].Data) != "J/ok.jpg" || got[0].Caption != "x" ||
		string(got[1].Data) != "J/flaky.jpg" || got[1].Caption != "" {
		t.Errorf("sent %+v", got)
	}
}

// TestSendMediaNotAllowed (issue 12, item 3): by default the gateway
// fetches nothing from its own network for Telegram uploads. A canary on
// 127.0.0.1, reached by its address, an IPv4-mapped form, a name that
// resolves to it or a redirect from an allowed host, gets no request; each
// message fails at once, for good, with the generic text alone.
func TestSendMediaNotAllowed(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	var hits atomic.Int32
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		io.WriteString(w, "xmppgw_secret 1")
	}))
	t.Cleanup(canary.Close)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, canary.URL+"/metrics", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	port := canary.URL[strings.LastIndex(canary.URL, ":")+1:]
	rport := redirect.URL[strings.LastIndex(redirect.URL, ":")+1:]
	publicHosts(t) // nothing is public: no DNS lookups
	setPolicy(t, tr, []string{"upload.example.test"}, map[string]string{
		"internal.example.test": "127.0.0.1",
		"upload.example.test":   "127.0.0.1",
	})
	ctx := testCtx(t)
	for i, u := range []string{
		canary.URL + "/metrics",
		"http://[::ffff:127.0.0.1]:" + port + "/metrics",
		"http://internal.example.test:" + port + "/metrics",
		"http://localhost:" + port + "/metrics",
		"http://127.0.0.1:1/closed-port",
		"http://upload.example.test:" + rport + "/a.jpg", // allowed, but redirects to the canary
	} {
		_, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "n" + strconv.Itoa(i), Body: "see", Media: []string{u}})
		pe, ok := err.(*transports.Error)
		if !ok || pe.Kind != transports.KindNotAllowed || pe.Temporary() || pe.Message != "this attachment's address is not allowed" {
			t.Errorf("%02d %s: %v, want KindNotAllowed with the generic text", i, u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the canary got %d requests, want 0", n)
	}
	if got := fake.SentTo(111); len(got) != 0 {
		t.Errorf("Telegram got %+v", got)
	}
}

func TestMethodFor(t *testing.T) {
	for _, tc := range []struct {
		ct, name string
		want     mediaMethod
	}{
		{"image/jpeg", "x", methodPhoto},
		{"image/png; q=1", "", methodPhoto},
		{"image/svg+xml", "a.svg", methodDocument},
		{"audio/ogg", "", methodVoice},
		{"audio/mpeg", "a.mp3", methodDocument},
		{"", "a.jpg", methodPhoto},
		{"application/octet-stream", "v.oga", methodVoice},
		{"application/octet-stream", "v.ogg", methodVoice},
		{"", "a.zip", methodDocument},
		{"", "", methodDocument},
	} {
		if got := methodFor(tc.ct, tc.name); got != tc.want {
			t.Errorf("methodFor(%q, %q) = %v, want %v", tc.ct, tc.name, got, tc.want)
		}
	}
}
