package alerts

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A silence that cannot be made tells whoever answered so, without
// Alertmanager's URL, which may hold a password; the cause, for the log,
// has no password either.
func TestSilenceErrorHidesURL(t *testing.T) {
	a := &Alertmanager{URL: "http://admin:s3cret@127.0.0.1:1", Client: &http.Client{Timeout: 5 * time.Second}}
	_, err := a.Silence(context.Background(), map[string]string{"alertname": "X"}, time.Hour, "+15551234567", "c", "k")
	if err == nil {
		t.Fatal("no error from an Alertmanager that is not there")
	}
	if got := err.Error(); got != "cannot reach Alertmanager" {
		t.Errorf("the text for users: %q", got)
	}
	cause := errors.Unwrap(err)
	if cause == nil || strings.Contains(cause.Error(), "s3cret") {
		t.Errorf("the cause for the log: %v", cause)
	}
}
