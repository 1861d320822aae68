package telegram

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	// Telegram, cannot fetch 127.0.0.1 and refuses it (400): the gateway
	// uploads it instead, once.
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "u1", Body: "see", Media: []string{fs.URL + "/pic"}})
	if err != nil || id != "111:1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if got := fake.Media(); len(got) != 1 || got[0].Method != "sendPhoto" || got[0].URL != "" || string(got[0].Data) != "PNG" || got[0].Caption != "see" {
		t.Errorf("fake got %+v", got)
	}
	if fs.heads.Load() != 1 || fs.gets.Load() != 1 {
		t.Errorf("file server: %d HEAD, %d GET; want 1, 1", fs.heads.Load(), fs.gets.Load())
	}
	// A public name: HEAD fails (no such host), so the extension decides.
	publicHosts(t, "https://cdn.example.invalid/")
	id, err = tr.Send(ctx, transports.Outbound{To: "111", ID: "u2", Body: "see",
		Media: []string{"https://cdn.example.invalid/img/dog.webp", "https://cdn.example.invalid/f/data.pdf"}})
	if err != nil || id != "111:2,3" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	got := fake.Media()[1:]
	if len(got) != 2 || got[0].Method != "sendPhoto" || got[0].URL != "https://cdn.example.invalid/img/dog.webp" ||
		got[0].Caption != "see" || got[0].Data != nil ||
		got[1].Method != "sendDocument" || got[1].URL != "https://cdn.example.invalid/f/data.pdf" || got[1].Caption != "" {
		t.Errorf("fake got %+v", got)
	}
}

// sizedServer serves files by path with their types, each with its
// Content-Length unless chunked, and counts HEADs and GETs per path.
type sizedServer struct {
	*httptest.Server
	mu    sync.Mutex
	heads map[string]int
	gets  map[string]int
	fail  map[string]int // path -> GETs still answered 503
}

type sizedFile struct {
	ctype   string
	data    []byte
	chunked bool
}

func newSizedServer(t *testing.T, files map[string]sizedFile) *sizedServer {
	s := &sizedServer{heads: map[string]int{}, gets: map[string]int{}, fail: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if r.Method == http.MethodHead {
			s.heads[r.URL.Path]++
		} else {
			s.gets[r.URL.Path]++
		}
		fail := r.Method == http.MethodGet && s.fail[r.URL.Path] > 0
		if fail {
			s.fail[r.URL.Path]--
		}
		s.mu.Unlock()
		f, ok := files[r.URL.Path]
		switch {
		case fail:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case !ok:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		if !f.chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		}
		if r.Method == http.MethodGet {
			w.Write(f.data)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sizedServer) counts(path string) (heads, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heads[path], s.gets[path]
}

// TestSendMediaByURLOrUpload: a public attachment is sent by its URL only
// when Telegram takes it so (Bot API, "Sending files": photos up to 5 MB,
// Ogg voice notes up to 1 MB, sendDocument only PDF or ZIP, up to 20 MB),
// judged from what a HEAD says; anything else is fetched and uploaded
// (an mp4, an m4a, a docx or a txt from an XMPP upload service, which
// Telegram refuses by URL, for good). A photo over sendPhoto's 10 MB goes
// as a document, its size known or found out on the way.
func TestSendMediaByURLOrUpload(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	const mb = 1 << 20
	blob := func(head string, n int) []byte { b := make([]byte, n); copy(b, head); return b }
	files := map[string]sizedFile{
		"/cat.png":     {ctype: "image/png", data: blob("\x89PNG", 1000)},
		"/big.jpg":     {ctype: "image/jpeg", data: blob("\xff\xd8\xff", 6*mb)},
		"/huge.jpg":    {ctype: "image/jpeg", data: blob("\xff\xd8\xff", 11*mb)},
		"/stream.jpg":  {ctype: "image/jpeg", data: blob("\xff\xd8\xff", 11*mb), chunked: true},
		"/a.pdf":       {ctype: "application/pdf", data: blob("%PDF", 1000)},
		"/big.zip":     {ctype: "application/zip", data: blob("PK", 21*mb)},
		"/report.docx": {ctype: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", data: blob("PK", 1000)},
		"/clip.mp4":    {ctype: "video/mp4", data: blob("\x00\x00\x00\x18ftypmp42", 1000)},
		"/talk.m4a":    {ctype: "audio/mp4", data: blob("\x00\x00\x00\x18ftypM4A ", 1000)},
		"/notes.txt":   {ctype: "text/plain", data: blob("notes", 1000)},
		"/hi.ogg":      {ctype: "audio/ogg", data: blob("OggS", 1000)},
		"/long.ogg":    {ctype: "audio/ogg", data: blob("OggS", 2*mb)},
	}
	fs := newSizedServer(t, files)
	// The upload service is on the gateway's host, under a public-looking
	// name: HEAD and GET reach it, and the fake takes its URLs.
	port := fs.URL[strings.LastIndex(fs.URL, ":")+1:]
	base := "http://upload.example.test:" + port
	setPolicy(t, tr, []string{"upload.example.test", "files.example.test"},
		map[string]string{"upload.example.test": "127.0.0.1", "files.example.test": "127.0.0.1"})
	publicHosts(t, base)
	private := "http://files.example.test:" + port // not public: always uploaded
	tests := []struct {
		base, path string
		refuse     string // a method Telegram refuses once (400)
		method     string // how it was sent
		byURL      bool
		heads      int
		gets       int
	}{
		0:  {base, "/cat.png", "", "sendPhoto", true, 1, 0},
		1:  {base, "/big.jpg", "", "sendPhoto", false, 1, 1},     // over 5 MB by URL
		2:  {base, "/huge.jpg", "", "sendDocument", false, 1, 1}, // over 10 MB uploaded as a photo
		3:  {private, "/stream.jpg", "", "sendDocument", false, 0, 2},
		4:  {base, "/a.pdf", "", "sendDocument", true, 1, 0},
		5:  {base, "/big.zip", "", "sendDocument", false, 1, 1}, // over 20 MB by URL
		6:  {base, "/report.docx", "", "sendDocument", false, 1, 1},
		7:  {base, "/clip.mp4", "", "sendDocument", false, 1, 1},
		8:  {base, "/talk.m4a", "", "sendDocument", false, 1, 1},
		9:  {base, "/notes.txt", "", "sendDocument", false, 1, 1},
		10: {base, "/hi.ogg", "", "sendVoice", true, 1, 0},
		11: {base, "/long.ogg", "", "sendVoice", false, 1, 1}, // over 1 MB by URL
		// Refused by URL: uploaded instead, once.
		12: {base, "/a.pdf", "sendDocument", "sendDocument", false, 1, 1},
		// Of unknown size, refused by URL (over 5 MB), then cut off at
		// sendPhoto's 10 MB: fetched again, and sent as a document.
		13: {base, "/stream.jpg", "sendPhoto", "sendDocument", false, 1, 2},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.path), func(t *testing.T) {
			if tt.refuse != "" {
				fake.Fail(tt.refuse, 1, http.StatusBadRequest, "Bad Request: failed to get HTTP URL content", 0)
			}
			h0, g0 := fs.counts(tt.path)
			before := len(fake.Media())
			// Megabytes each way, under -race on a loaded machine: a
			// bound of its own, generous, that only a hang reaches.
			id, err := tr.Send(uploadCtx(t), transports.Outbound{To: "111", ID: "b" + strconv.Itoa(i), Media: []string{tt.base + tt.path}})
			if err != nil {
				t.Fatal(err)
			}
			got := fake.Media()[before:]
			if len(got) != 1 || id != "111:"+strconv.Itoa(got[0].MessageID) {
				t.Fatalf("Send = %q; the fake got %d files", id, len(got))
			}
			g := got[0]
			want := files[tt.path].data
			switch {
			case g.Method != tt.method:
				t.Errorf("%s, want %s", g.Method, tt.method)
			case tt.byURL && (g.URL != tt.base+tt.path || g.Data != nil):
				t.Errorf("URL %q, %d bytes uploaded; want it by URL", g.URL, len(g.Data))
			case !tt.byURL && (g.URL != "" || !bytes.Equal(g.Data, want)):
				t.Errorf("URL %q, %d bytes uploaded; want all %d uploaded", g.URL, len(g.Data), len(want))
			}
			if heads, gets := fs.counts(tt.path); heads-h0 != tt.heads || gets-g0 != tt.gets {
				t.Errorf("%d HEAD, %d GET; want %d, %d", heads-h0, gets-g0, tt.heads, tt.gets)
			}
		})
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

// TestSendMediaFallbackRetry: a retry after a part failed for now does not
// send again the files already sent, one uploaded after Telegram refused
// its URL included.
func TestSendMediaFallbackRetry(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	fs := newSizedServer(t, map[string]sizedFile{
		"/a.pdf":       {ctype: "application/pdf", data: []byte("%PDF-1.4")},
		"/report.docx": {ctype: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", data: []byte("PK docx")},
	})
	fs.fail["/report.docx"] = 1 // the upload service fails once
	port := fs.URL[strings.LastIndex(fs.URL, ":")+1:]
	base := "http://upload.example.test:" + port
	setPolicy(t, tr, []string{"upload.example.test"}, map[string]string{"upload.example.test": "127.0.0.1"})
	publicHosts(t, base)
	ctx := testCtx(t)
	fake.Fail("sendDocument", 1, http.StatusBadRequest, "Bad Request: wrong type of the web page content", 0)
	o := transports.Outbound{To: "111", ID: "r1", Body: "the report", Media: []string{base + "/a.pdf", base + "/report.docx"}}
	_, err := tr.Send(ctx, o)
	if pe, ok := err.(*transports.Error); !ok || !pe.Temporary() {
		t.Fatalf("first try: %v, want a temporary failure", err)
	}
	id, err := tr.Send(ctx, o)
	if err != nil || id != "111:1,2" {
		t.Fatalf("retry = %q, %v", id, err)
	}
	got := fake.Media()
	if len(got) != 2 || string(got[0].Data) != "%PDF-1.4" || got[0].Caption != "the report" || got[0].URL != "" ||
		string(got[1].Data) != "PK docx" || got[1].Caption != "" {
		t.Errorf("sent %+v", got)
	}
	if _, gets := fs.counts("/a.pdf"); gets != 1 {
		t.Errorf("a.pdf fetched %d times, want 1", gets)
	}
}

func TestTakesByURL(t *testing.T) {
	for i, tc := range []struct {
		mm       mediaMethod
		ct, name string
		size     int64
		want     bool
	}{
		0:  {methodPhoto, "image/jpeg", "a.jpg", 5 << 20, true},
		1:  {methodPhoto, "image/jpeg", "a.jpg", 5<<20 + 1, false},
		2:  {methodPhoto, "", "a.jpg", -1, true}, // tried; a refusal is uploaded
		3:  {methodVoice, "audio/ogg", "v.ogg", 1 << 20, true},
		4:  {methodVoice, "audio/ogg", "v.ogg", 1<<20 + 1, false},
		5:  {methodVoice, "audio/ogg", "v.ogg", -1, false}, // might become a file
		6:  {methodVoice, "audio/opus", "v.opus", 1000, false},
		7:  {methodDocument, "application/pdf", "a.pdf", 20 << 20, true},
		8:  {methodDocument, "application/pdf", "a.pdf", 20<<20 + 1, false},
		9:  {methodDocument, "application/zip; charset=binary", "", -1, true},
		10: {methodDocument, "application/octet-stream", "a.pdf", 100, true},
		11: {methodDocument, "application/octet-stream", "a.docx", 100, false},
		12: {methodDocument, "video/mp4", "a.mp4", 100, false},
		13: {methodDocument, "text/plain", "a.pdf", 100, false}, // the type says, not the name
	} {
		if got := takesByURL(tc.mm, tc.ct, tc.name, tc.size); got != tc.want {
			t.Errorf("%02d takesByURL(%v, %q, %q, %d) = %v, want %v", i, tc.mm, tc.ct, tc.name, tc.size, got, tc.want)
		}
	}
}

// A 429 after part of a message went out (the long text sent before its
// photo) says so (PartSent) and keeps Telegram's wait, so that the core
// waits it out instead of failing the message as one Telegram took nothing
// of; the retry sends the photo alone. Whether the photo goes by URL or is
// uploaded.
func TestRateLimitAfterPartSent(t *testing.T) {
	for _, byURL := range []bool{true, false} {
		t.Run("by URL "+strconv.FormatBool(byURL), func(t *testing.T) {
			tr, fake := newTest(t, ModePolling, nil)
			fake.AddChat(dm)
			allowLoopback(t, tr)
			fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
			if byURL {
				publicHosts(t, fs.URL)
			}
			fake.Fail("sendPhoto", 1, http.StatusTooManyRequests, "", 3600)
			out := transports.Outbound{To: "111", ID: "1", Body: strings.Repeat("word ", 300), Media: []string{fs.URL + "/up/cat.jpg"}}
			ctx := testCtx(t)
			_, err := tr.Send(ctx, out)
			pe, _ := err.(*transports.Error)
			if pe == nil || pe.Kind != transports.KindRateLimited || !pe.PartSent || pe.RetryAfter != time.Hour {
				t.Fatalf("Send after the text went out = %#v (%v), want rate limited, PartSent, retry after 1h", pe, err)
			}
			id, err := tr.Send(ctx, out)
			if err != nil || id != "111:1,2" {
				t.Fatalf("retry = %q, %v", id, err)
			}
			if s, want := shows(fake, 111), []string{"1 text (1500 chars)", "2 photo "}; !slices.Equal(s, want) {
				t.Errorf("the chat shows %q, want %q", s, want)
			}
		})
	}
	// A 429 before anything went out took nothing: not PartSent.
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	fake.Fail("sendMessage", 1, http.StatusTooManyRequests, "", 3600)
	_, err := tr.Send(testCtx(t), transports.Outbound{To: "111", ID: "1", Body: strings.Repeat("word ", 1000)})
	if pe, _ := err.(*transports.Error); pe == nil || pe.Kind != transports.KindRateLimited || pe.PartSent {
		t.Errorf("a 429 on the first part: %#v (%v), want rate limited, not PartSent", pe, err)
	}
}
