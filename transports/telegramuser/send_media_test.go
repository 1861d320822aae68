package telegramuser

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// Attachments of a known size are streamed to Telegram; those of an unknown
// size are held whole, at most wholeUploads at once (a send waits for a
// slot, and gives up for now when its context ends); a body that ends
// before its declared size fails for now, not for good.
func TestSendMediaStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mt, err := tguserfake.Start(ctx, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mt.Close() })
	me := mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := mt.AddUser(tguserfake.User{Phone: "+15550003333", FirstName: "Carol"})
	mt.Post(carol.ID, tguserfake.Peer{User: me.ID}, "send me the logs", 0)

	data := bytes.Repeat([]byte("log line\n"), 200_000) // 1.8 MB
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/known.txt":
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		case "/unknown.txt":
			w.Write(data[:1000])
			w.(http.Flusher).Flush() // chunked: no Content-Length
			w.Write(data[1000:])
		case "/short.txt":
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:1000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection is cut
		}
	}))
	defer files.Close()

	policy, err := transports.NewFetchPolicy([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32),
		Server: &Server{Address: mt.Addr(), PublicKey: string(mt.PublicKeyPEM())}}
	if probs := s.Validate(); len(probs) > 0 {
		t.Fatal(probs)
	}
	tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg",
		State: &transporttest.KV{}, Fetch: policy}, s)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(rctx, &transporttest.Sink{}) }()
	defer func() { stop(); <-done }()
	signInAt(t, tr, mt, "+15550001111")
	account := tr.Accounts()[testUser]
	to := transports.Addr(strconv.FormatInt(carol.ID, 10))
	send := func(ctx context.Context, id, path string) error {
		_, err := tr.Send(ctx, transports.Outbound{ID: id, Account: account, To: to, Media: []string{files.URL + path}})
		return err
	}
	last := func() []byte {
		h := mt.History(me.ID, tguserfake.Peer{User: carol.ID})
		if m := h[len(h)-1]; m.Media != nil {
			return m.Media.Data
		}
		return nil
	}

	if err := send(ctx, "m1", "/known.txt"); err != nil {
		t.Fatalf("known size: %v", err)
	}
	if !bytes.Equal(last(), data) {
		t.Error("the file of a known size arrived changed")
	}
	if err := send(ctx, "m2", "/unknown.txt"); err != nil {
		t.Fatalf("unknown size: %v", err)
	}
	if !bytes.Equal(last(), data) {
		t.Error("the file of an unknown size arrived changed")
	}

	var te *transports.Error
	if err := send(ctx, "m3", "/short.txt"); !errors.As(err, &te) || !te.Temporary() {
		t.Errorf("a body cut short: %v, want a failure for now", err)
	}

	for range wholeUploads { // other uploads hold every slot
		tr.whole <- struct{}{}
	}
	wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer wcancel()
	if err := send(wctx, "m4", "/unknown.txt"); !errors.As(err, &te) || !te.Temporary() {
		t.Errorf("unknown size, no slot: %v, want a failure for now", err)
	}
	if err := send(ctx, "m5", "/known.txt"); err != nil {
		t.Errorf("known size, while the slots are held: %v", err)
	}
	if n := len(mt.History(me.ID, tguserfake.Peer{User: carol.ID})); n != 4 {
		t.Errorf("%d messages in the chat, want 4 (the first, m1, m2, m5)", n)
	}
}
