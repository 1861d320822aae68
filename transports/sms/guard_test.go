package sms

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/transports"
)

// These tests connect to nothing but 127.0.0.1: host names resolve through
// a table, and every URL that is not on loopback is marked public (handed
// to Twilio as it is) or refused before any connection.

// resolver is a table of host names, changeable while a test runs (as DNS
// answers change between a check and a fetch).
type resolver struct {
	mu    sync.Mutex
	hosts map[string]string
}

func (r *resolver) set(host, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = map[string]string{}
	}
	r.hosts[host] = addr
}

func (r *resolver) lookup(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.hosts[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// setPolicy makes tr fetch users' URLs under a policy allowing allow, with
// host names resolved by res (nil: none resolve).
func setPolicy(t *testing.T, tr *Transport, allow []string, res *resolver) {
	t.Helper()
	p, err := transports.NewFetchPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	if res == nil {
		res = &resolver{}
	}
	tr.policy = p.WithLookup(res.lookup)
	tr.fetchTransport = tr.policy.Transport()
}

// canary is an HTTP server on 127.0.0.1 that must get no request.
func newCanary(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	c := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		io.WriteString(w, "internal secret")
	}))
	t.Cleanup(c.Close)
	return c, &hits
}

// TestSendMediaNotAllowed (issue 12, item 3): a URL on the gateway's own
// network is refused when the message is sent, before Twilio hears of it:
// KindNotAllowed, permanent, with the generic text alone; the canary on
// 127.0.0.1 gets no request, now or later.
func TestSendMediaNotAllowed(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	e := newMediaEnv(t, base, testToken)
	canary, hits := newCanary(t)
	port := canary.URL[strings.LastIndex(canary.URL, ":")+1:]
	e.tr.isPublic = func(context.Context, string) bool { return false }
	res := &resolver{}
	res.set("internal.example.test", "127.0.0.1")
	res.set("metadata.example.test", "169.254.169.254")
	res.set("cgnat.example.test", "100.64.1.1")
	res.set("ula.example.test", "fd00::1")
	setPolicy(t, e.tr, nil, res)
	for i, u := range []string{
		canary.URL + "/metrics",
		"http://[::ffff:127.0.0.1]:" + port + "/metrics",
		"http://[::1]:" + port + "/metrics",
		"http://internal.example.test:" + port + "/metrics",
		"http://metadata.example.test/latest/meta-data/",
		"http://cgnat.example.test/a.jpg",
		"http://ula.example.test/a.jpg",
		"http://localhost:" + port + "/metrics",
		"http://10.1.2.3/a.jpg",
	} {
		o := out("+15551234567", "see")
		o.Media = []string{"https://cdn.example.com/ok.jpg", u}
		_, err := e.tr.Send(context.Background(), o)
		pe, ok := err.(*transports.Error)
		if !ok || pe.Kind != transports.KindNotAllowed || pe.Temporary() || pe.Message != "this attachment's address is not allowed" {
			t.Errorf("%02d %s: %v, want KindNotAllowed with the generic text", i, u, err)
		}
	}
	if m := f.Messages(); len(m) != 0 {
		t.Errorf("Twilio got %+v", m)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the canary got %d requests, want 0", n)
	}
}

// TestOutboundMediaRebinding: a name allowed when the message was sent
// (it resolved into media.fetch_allow) that resolves to loopback when Twilio
// asks for the file is refused on connecting: 502, and the canary gets
// nothing. Allowed, the same URL works.
func TestOutboundMediaRebinding(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	e := newMediaEnv(t, base, testToken)
	canary, hits := newCanary(t)
	port := canary.URL[strings.LastIndex(canary.URL, ":")+1:]
	e.tr.isPublic = func(context.Context, string) bool { return false }
	res := &resolver{}
	res.set("upload.lan.test", "10.1.2.8")
	setPolicy(t, e.tr, []string{"10.1.2.0/24"}, res)
	o := out("+15551234567", "")
	o.Media = []string{"http://upload.lan.test:" + port + "/upload/cat.jpg"}
	if _, err := e.tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	gw := f.Messages()[0].MediaURLs[0]
	res.set("upload.lan.test", "127.0.0.1") // DNS now answers loopback
	code, ctype, body := get(t, gw)
	if code != 502 || body != "sms media: the file cannot be fetched\n" || ctype != "text/plain; charset=utf-8" {
		t.Errorf("GET %s after rebinding: %d %q %q", gw, code, ctype, body)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the canary got %d requests, want 0", n)
	}
	setPolicy(t, e.tr, []string{"10.1.2.0/24", "127.0.0.1"}, res)
	if code, _, body := get(t, gw); code != 200 || body != "internal secret" || hits.Load() != 1 {
		t.Errorf("GET %s with loopback allowed: %d %q, %d requests", gw, code, body, hits.Load())
	}
}

// TestOutboundMediaExpiry: a URL handed to Twilio works for a day.
func TestOutboundMediaExpiry(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	e := newMediaEnv(t, base, testToken)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "GIF89a") }))
	t.Cleanup(up.Close)
	e.tr.isPublic = func(context.Context, string) bool { return false }
	setPolicy(t, e.tr, []string{"127.0.0.1"}, nil)
	now := fixedNow
	e.tr.now = func() time.Time { return now }
	o := out("+15551234567", "")
	o.Media = []string{up.URL + "/a.gif"}
	if _, err := e.tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	gw := f.Messages()[0].MediaURLs[0]
	for i, tt := range []struct {
		after time.Duration
		code  int
	}{{0, 200}, {24 * time.Hour, 200}, {24*time.Hour + time.Second, 404}} {
		now = fixedNow.Add(tt.after)
		if code, _, _ := get(t, gw); code != tt.code {
			t.Errorf("%02d GET after %v: %d, want %d", i, tt.after, code, tt.code)
		}
	}
}

// TestMediaHeaders (issue 12, item 4): what the gateway serves from its
// origin is labelled by its bytes or the provider's type, only passive
// types inline, and always with nosniff and a sandboxing CSP: an MMS
// declared text/html, and a user's file that is HTML, are downloads.
func TestMediaHeaders(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	e := newMediaEnv(t, base, testToken)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		io.WriteString(w, `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)
	}))
	t.Cleanup(up.Close)
	e.tr.isPublic = func(context.Context, string) bool { return false }
	setPolicy(t, e.tr, []string{"127.0.0.1"}, nil)
	o := out("+15551234567", "")
	o.Media = []string{up.URL + "/x.png"}
	if _, err := e.tr.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	outURL := f.Messages()[0].MediaURLs[0]
	_, html, status, err := f.SendInboundMMS(context.Background(), e.hooks+"/inbound", "+15551234567", testAlice, "", "text/html",
		[]byte("<html><script>alert(1)</script></html>"))
	if err != nil || status != 200 || html == "" {
		t.Fatalf("SendInboundMMS: %d %v", status, err)
	}
	_, _, status, err = f.SendInboundMMS(context.Background(), e.hooks+"/inbound", "+15551234567", testAlice, "", "audio/amr",
		[]byte("#!AMR\n\x3c\x00"))
	if err != nil || status != 200 {
		t.Fatalf("SendInboundMMS: %d %v", status, err)
	}
	in := e.sink.inbound
	tests := []struct {
		url         string
		code        int
		ctype, disp string
	}{
		{in[0].Media[0], 200, "application/octet-stream", "attachment; filename=0.html"},
		{in[1].Media[0], 200, "audio/amr", "inline; filename=0.amr"},
		{outURL, 200, "application/octet-stream", "attachment; filename=x.png"},
		{e.media + "/nope", 404, "text/plain; charset=utf-8", ""},
	}
	for i, tt := range tests {
		resp, err := http.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != tt.code || h.Get("Content-Type") != tt.ctype || h.Get("Content-Disposition") != tt.disp ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
			t.Errorf("%02d GET %s: %d, Content-Type %q, Content-Disposition %q, nosniff %q, CSP %q; want %d %q %q", i, tt.url,
				resp.StatusCode, h.Get("Content-Type"), h.Get("Content-Disposition"), h.Get("X-Content-Type-Options"),
				h.Get("Content-Security-Policy"), tt.code, tt.ctype, tt.disp)
		}
	}
}
