package transports

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMediaType(t *testing.T) {
	const (
		jpeg = "\xff\xd8\xff\xe0 a jpeg"
		png  = "\x89PNG\r\n\x1a\n a png"
		gif  = "GIF89a a gif"
		mp4  = "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
		ogg  = "OggS\x00\x02 an ogg"
		html = "<!DOCTYPE html><script>alert(1)</script>"
		svg  = `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`
		xml  = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`
		pdf  = "%PDF-1.7 a pdf"
		amr  = "#!AMR\n\x3c\x00"
		bin  = "\x00\x01\x02\x03 unknown"
	)
	tests := []struct {
		head     string
		declared []string
		ctype    string
		inline   bool
	}{
		{jpeg, nil, "image/jpeg", true},
		{jpeg, []string{"text/html"}, "image/jpeg", true}, // the bytes win
		{png, []string{"image/jpeg"}, "image/png", true},
		{gif, nil, "image/gif", true},
		{mp4, nil, "video/mp4", true},
		{ogg, nil, "audio/ogg", true},
		{ogg, []string{"video/ogg"}, "video/ogg", true},
		{ogg, []string{"audio/ogg; codecs=opus"}, "audio/ogg", true},
		{html, nil, "application/octet-stream", false},
		{html, []string{"image/png"}, "application/octet-stream", false}, // the bytes say HTML
		{svg, []string{"image/svg+xml"}, "application/octet-stream", false},
		{xml, []string{"image/svg+xml"}, "application/octet-stream", false},
		{pdf, []string{"application/pdf"}, "application/octet-stream", false},
		{amr, []string{"audio/amr"}, "audio/amr", true}, // sniffed as text: the provider's type
		{amr, nil, "application/octet-stream", false},
		{bin, []string{"application/octet-stream", "video/3gpp"}, "video/3gpp", true},
		{bin, []string{"image/svg+xml", "text/html"}, "application/octet-stream", false},
		{"plain text", []string{"text/plain"}, "application/octet-stream", false},
		{"", nil, "application/octet-stream", false},
		{"\xff\xd8 not quite a jpeg", []string{"image/jpeg"}, "image/jpeg", true},
	}
	for i, tt := range tests {
		ctype, inline := MediaType([]byte(tt.head), tt.declared...)
		if ctype != tt.ctype || inline != tt.inline {
			t.Errorf("%02d MediaType(%q, %q) = %q, %v; want %q, %v", i, tt.head, tt.declared, ctype, inline, tt.ctype, tt.inline)
		}
	}
}

// brokenBody yields data, then fails as an upstream that broke off.
type brokenBody struct{ data string }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.data == "" {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

// TestServeMedia serves each file to a real HTTP client on loopback (a
// ResponseRecorder cannot show what a client receives): a file that could
// not be sent whole is a failed transfer for the client (its read of the
// body fails), never a short file that looks complete; one known to be too
// large is 413 with nothing of it sent.
func TestServeMedia(t *testing.T) {
	big := "GIF89a" + strings.Repeat("x", 10000)
	tests := []struct {
		method string
		file   MediaFile
		status int // 0: the request fails
		header map[string]string
		body   string
		broken bool  // the client's read of the body fails
		err    error // what ServeMedia returns wraps it
	}{
		0: {http.MethodGet, MediaFile{Body: strings.NewReader("<html><script>x</script>"), Size: -1, Name: "invoice.html", Declared: []string{"text/html"}, Limit: 100},
			200, map[string]string{"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename=invoice.html`},
			"<html><script>x</script>", false, nil},
		1: {http.MethodGet, MediaFile{Body: strings.NewReader("\x89PNG\r\n\x1a\nxx"), Size: 10, Name: "a/b/x.svg", Limit: 100},
			200, map[string]string{"Content-Type": "image/png", "Content-Disposition": `inline; filename=x.svg`, "Content-Length": "10"},
			"\x89PNG\r\n\x1a\nxx", false, nil},
		2: {http.MethodHead, MediaFile{Body: strings.NewReader("GIF89a"), Size: 6, Limit: 100},
			200, map[string]string{"Content-Type": "image/gif", "Content-Disposition": "inline", "Content-Length": "6"}, "", false, nil},
		3: {http.MethodGet, MediaFile{Body: strings.NewReader("GIF89a"), Size: 6, Name: "café.gif", Limit: 100},
			200, map[string]string{"Content-Disposition": `inline; filename*=utf-8''caf%C3%A9.gif`}, "GIF89a", false, nil},
		// Known to be too large: 413, nothing of the file.
		4: {http.MethodGet, MediaFile{Body: strings.NewReader("GIF89a"), Size: 6, Limit: 5},
			413, map[string]string{"Content-Disposition": "", "Content-Length": "22"}, "media: file too large\n", false, ErrMediaTooLarge},
		// Past net/http's buffer (4 KB), status and headers are on their
		// way before the failure is known; the transfer then fails.
		// Longer than Limit, found out on the way:
		5: {http.MethodGet, MediaFile{Body: strings.NewReader(big + "-and-more"), Size: -1, Limit: int64(len(big))},
			200, map[string]string{"Content-Type": "image/gif"}, big, true, ErrMediaTooLarge},
		// The upstream breaks off, with or without a size:
		6: {http.MethodGet, MediaFile{Body: &brokenBody{big}, Size: -1, Limit: 1 << 20},
			200, map[string]string{"Content-Length": ""}, big, true, ErrMediaCut},
		7: {http.MethodGet, MediaFile{Body: &brokenBody{big}, Size: 20000, Limit: 1 << 20},
			200, map[string]string{"Content-Length": "20000"}, big, true, ErrMediaCut},
		// The upstream ends early, or runs on, against the size it gave:
		8: {http.MethodGet, MediaFile{Body: strings.NewReader(big), Size: 20000, Limit: 1 << 20},
			200, map[string]string{"Content-Length": "20000"}, big, true, ErrMediaCut},
		9: {http.MethodGet, MediaFile{Body: strings.NewReader(big + "-and-more"), Size: int64(len(big)), Limit: 1 << 20},
			200, map[string]string{"Content-Length": strconv.Itoa(len(big))}, big, false, ErrMediaCut},
		// Failed within the buffer: no answer at all.
		10: {http.MethodGet, MediaFile{Body: &brokenBody{big[:1000]}, Size: -1, Limit: 1 << 20},
			0, nil, "", true, ErrMediaCut},
		// Failed within its first 512 bytes, read before answering: 502.
		11: {http.MethodGet, MediaFile{Body: &brokenBody{"GIF89a"}, Size: -1, Limit: 100},
			502, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, "media: the file cannot be fetched\n", false, io.ErrUnexpectedEOF},
	}
	for i, tt := range tests {
		errc := make(chan error, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := ServeMedia(w, r, tt.file)
			errc <- err
			AbortMedia(err)
		}))
		req, _ := http.NewRequest(tt.method, srv.URL+"/x", nil)
		resp, err := srv.Client().Do(req)
		if err != nil || tt.status == 0 {
			if serr := <-errc; err == nil || tt.status != 0 || !errors.Is(serr, tt.err) {
				t.Errorf("%02d: %v, ServeMedia returned %v; want status %d", i, err, serr, tt.status)
			}
			if err == nil {
				resp.Body.Close()
			}
			srv.Close()
			continue
		}
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		serr := <-errc
		srv.Close()
		if resp.StatusCode != tt.status || string(b) != tt.body || (rerr != nil) != tt.broken {
			t.Errorf("%02d: %d, %d bytes %.40q, read error %v; want %d, %d bytes %.40q, broken %v",
				i, resp.StatusCode, len(b), b, rerr, tt.status, len(tt.body), tt.body, tt.broken)
		}
		if (tt.err == nil) != (serr == nil) || (tt.err != nil && !errors.Is(serr, tt.err)) {
			t.Errorf("%02d: ServeMedia returned %v, want %v", i, serr, tt.err)
		}
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
			t.Errorf("%02d: headers %v", i, h)
		}
		for k, v := range tt.header {
			if got := h.Get(k); got != v {
				t.Errorf("%02d: %s: %q, want %q", i, k, got, v)
			}
		}
	}
}

func TestMediaSigner(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	s := NewMediaSigner([]byte("key"), 0, clock)
	if s.TTL() != 30*24*time.Hour {
		t.Fatalf("default TTL %v", s.TTL())
	}
	sig, exp, _ := strings.Cut(s.Sign(0, "FILEID", "invoice.pdf"), "/")
	if exp != "1702592000" {
		t.Fatalf("expiry %s, want 30 days later", exp)
	}
	other := NewMediaSigner([]byte("other key"), 0, clock)
	osig, _, _ := strings.Cut(other.Sign(0, "FILEID", "invoice.pdf"), "/")
	tests := []struct {
		sig, exp string
		elems    []string
		at       time.Time
		ok       bool
	}{
		{sig, exp, []string{"FILEID", "invoice.pdf"}, now, true},
		{sig, exp, []string{"FILEID", "invoice.pdf"}, now.Add(30 * 24 * time.Hour), true},
		{sig, exp, []string{"FILEID", "invoice.pdf"}, now.Add(30*24*time.Hour + time.Second), false}, // expired
		{sig, exp, []string{"FILEID", "invoice.svg"}, now, false},                                    // renamed
		{sig, exp, []string{"FILEID", "invoice.pdf", ""}, now, false},
		{sig, exp, []string{"FILEIDinvoice.pdf"}, now, false},
		{sig, exp, []string{"FILEI", "Dinvoice.pdf"}, now, false},
		{sig, "1802592000", []string{"FILEID", "invoice.pdf"}, now, false}, // a later expiry
		{sig, "01702592000", []string{"FILEID", "invoice.pdf"}, now, false},
		{sig, "", []string{"FILEID", "invoice.pdf"}, now, false},
		{osig, exp, []string{"FILEID", "invoice.pdf"}, now, false},
		{"", exp, []string{"FILEID", "invoice.pdf"}, now, false},
	}
	for i, tt := range tests {
		now = tt.at
		if got := s.Verify(tt.sig, tt.exp, tt.elems...); got != tt.ok {
			t.Errorf("%02d Verify(%q, %q, %q) at %v = %v, want %v", i, tt.sig, tt.exp, tt.elems, tt.at.Unix(), got, tt.ok)
		}
	}
	// A shorter TTL for one URL; a longer one is capped.
	now = time.Unix(1_700_000_000, 0)
	if _, e, _ := strings.Cut(s.Sign(time.Hour, "x"), "/"); e != "1700003600" {
		t.Errorf("1h expiry %s", e)
	}
	if _, e, _ := strings.Cut(s.Sign(365*24*time.Hour, "x"), "/"); e != exp {
		t.Errorf("capped expiry %s, want %s", e, exp)
	}
}

// A medium outlasts the server's write timeout (meant for webhooks' short
// answers): a client that reads slowly gets the whole file.
func TestServeMediaSlowClient(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4<<20)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeMedia(w, r, MediaFile{Body: bytes.NewReader(body), Size: int64(len(body)), Limit: int64(len(body))})
	}))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got int
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // past the write timeout after a few reads
	}
	if got != len(body) {
		t.Errorf("got %d of %d bytes", got, len(body))
	}
}
