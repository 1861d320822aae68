package botfake

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

const testToken = "123456:TEST-token_abc"

var (
	alice   = User{ID: 1001, FirstName: "Alice", Username: "alice"}
	dm      = Chat{ID: 1001, Type: "private"}
	group   = Chat{ID: -1001234567890, Type: "supergroup", Title: "Friends"}
	unknown = int64(424242)
)

// start runs a fake for the test and returns it with its base URL.
func start(t *testing.T) (*Fake, string) {
	t.Helper()
	f := New(testToken)
	base := f.Start()
	t.Cleanup(f.Close)
	return f, base
}

// client connects the real library to the fake.
func client(t *testing.T, base string) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithClient(testToken, base+"/bot%s/%s", &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewBotAPIWithClient: %v", err)
	}
	return bot
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// call does one raw request and returns the status, Content-Type and body.
func call(t *testing.T, method, url, contentType, body string) (int, string, string) {
	t.Helper()
	status, ctype, b, err := do(method, url, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, ctype, b
}

// do is call for goroutines other than the test's.
func do(method, url, contentType, body string) (int, string, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b), err
}

// pollAsync starts a getUpdates call and delivers its raw answer.
func pollAsync(base, body string) <-chan string {
	out := make(chan string, 1)
	go func() {
		_, _, raw, err := do(http.MethodPost, base+"/bot"+testToken+"/getUpdates", "application/x-www-form-urlencoded", body)
		if err != nil {
			raw = "error: " + err.Error()
		}
		out <- raw
	}()
	return out
}

// form POSTs form-encoded parameters to a method, like tgbotapi does.
func form(t *testing.T, base, method, body string) (int, string) {
	t.Helper()
	status, _, resp := call(t, http.MethodPost, base+"/bot"+testToken+"/"+method,
		"application/x-www-form-urlencoded", body)
	return status, resp
}

// testContextCancelled returns a context that is already done.
func testContextCancelled() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx, cancel
}
