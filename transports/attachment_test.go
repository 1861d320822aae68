package transports

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestFetchAttachment, on loopback only: what a user's attachment URL
// gets, by what its server answers and what the policy allows.
func TestFetchAttachment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok/cat.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte("\xff\xd8\xffjpeg"))
		case "/big":
			w.Header().Set("Content-Length", strconv.Itoa(2<<20))
			w.Write(make([]byte, 2<<20))
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	allow, err := NewFetchPolicy([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		policy *FetchPolicy
		url    string
		kind   Kind // 0: fetched
		msg    string
	}{
		{allow, srv.URL + "/ok/cat.jpg", 0, ""},
		{DefaultFetchPolicy(), srv.URL + "/ok/cat.jpg", KindNotAllowed, NotAllowedText},
		{allow, srv.URL + "/missing", KindRejected, "fetching the attachment: HTTP 404"},
		{allow, srv.URL + "/busy", KindUnavailable, "fetching the attachment: HTTP 503"},
		{allow, srv.URL + "/big", KindRejected, "the attachment is larger than 1 MB"},
		{allow, "ftp://127.0.0.1/x", KindRejected, "an attachment's URL is not an http or https URL"},
	}
	for _, tt := range tests {
		att, e := FetchAttachment(context.Background(), tt.policy, &http.Client{Transport: tt.policy.Transport()}, tt.url, "Prov", 1<<20, log)
		switch {
		case tt.kind == 0 && e != nil:
			t.Errorf("%s: %v", tt.url, e)
		case tt.kind == 0:
			b, _ := io.ReadAll(att.Body)
			att.Body.Close()
			if string(b) != "\xff\xd8\xffjpeg" || att.Type != "image/jpeg" || att.Name != "cat.jpg" {
				t.Errorf("%s: %+v %q", tt.url, att, b)
			}
		case e == nil:
			att.Body.Close()
			t.Errorf("%s: fetched, want %v", tt.url, tt.kind)
		case e.Kind != tt.kind || e.Message != tt.msg || e.Provider != "Prov":
			t.Errorf("%s: %+v, want %v %q", tt.url, e, tt.kind, tt.msg)
		}
	}
}
