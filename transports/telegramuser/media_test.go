package telegramuser

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
)

// Each GET of a media URL makes the account read the message and the file
// from Telegram: anyone holding one URL could otherwise keep any number of
// those requests in flight on the user's session (and a part buffer for
// each). At most mediaAtOnce run at once per account; the others are
// answered 503 with Retry-After: 1, with the media headers (nothing served
// there runs as a page), without a request.
func TestMediaRequestsBoundedPerAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	jpeg := []byte("\xff\xd8\xff\xe0fakejpeg")
	c.mt.PostMedia(c.carol.ID, tguserfake.Peer{User: c.me.ID}, "a photo", tguserfake.File{Name: "p.jpg", MIME: "image/jpeg", Data: jpeg})
	var url string
	waitFor(t, ctx, "the photo never came", func() bool {
		in, ok := relayed(c.sink, "a photo")
		if ok && len(in.Media) > 0 {
			url = in.Media[0]
		}
		return url != ""
	})
	path := strings.TrimPrefix(url, "https://gw.example.test/media/tg")
	const getMessages = tg.MessagesGetMessagesRequestTypeID
	release := c.mt.HoldCalls(getMessages)
	defer release()
	h := c.tr.Media()
	const n = 40
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got []*httptest.ResponseRecorder
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
			defer rcancel()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil).WithContext(rctx))
			mu.Lock()
			got = append(got, w)
			mu.Unlock()
		}()
	}
	// Those past the limit are answered at once, while the others wait.
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	waitFor(t, wctx, "the GETs past the limit were not answered while the others wait", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= n-mediaAtOnce && c.mt.Held(getMessages) == mediaAtOnce
	})
	time.Sleep(200 * time.Millisecond) // any more would be held by now
	if held := c.mt.Held(getMessages); held != mediaAtOnce {
		t.Errorf("%d messages.getMessages requests in flight at once on one account; want %d", held, mediaAtOnce)
	}
	release()
	wg.Wait()
	served, busy := 0, 0
	for _, w := range got {
		switch w.Code {
		case http.StatusOK:
			if w.Body.String() != string(jpeg) {
				t.Errorf("served %q", w.Body.String())
			}
			served++
		case http.StatusServiceUnavailable:
			busy++
			hd := w.Header()
			if hd.Get("Retry-After") != "1" || hd.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(hd.Get("Content-Security-Policy"), "sandbox") || !strings.HasPrefix(hd.Get("Content-Type"), "text/plain") {
				t.Errorf("a GET past the limit was answered with headers %v", hd)
			}
		default:
			t.Errorf("a GET answered %d: %s", w.Code, w.Body.String())
		}
	}
	if served != mediaAtOnce || busy != n-mediaAtOnce {
		t.Errorf("%d served, %d answered 503; want %d and %d", served, busy, mediaAtOnce, n-mediaAtOnce)
	}
	// Once those are done, the URL is served again.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
	if w.Code != http.StatusOK {
		t.Errorf("a GET after the others ended: %d %s", w.Code, w.Body.String())
	}
}

// TestMediaServedWholeOrFailed: a media URL is read by a real HTTP client
// on loopback. A document is served with its size as Content-Length; one
// Telegram breaks off in the middle (upload.getFile fails after its first
// part) is a failed transfer for the client, not a 200 with a short body
// that ends cleanly; one over maxMedia is 413 before any of it is read.
func TestMediaServedWholeOrFailed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newChat(t, ctx)
	whole := make([]byte, 3<<20)
	copy(whole, "%PDF-1.4\n")
	cut := make([]byte, 3<<20)
	copy(cut, "%PDF-1.4\n")
	huge := make([]byte, maxMedia+1)
	me := tguserfake.Peer{User: c.me.ID}
	c.mt.PostMedia(c.carol.ID, me, "whole", tguserfake.File{Name: "whole.pdf", MIME: "application/pdf", Data: whole})
	c.mt.PostMedia(c.carol.ID, me, "cut", tguserfake.File{Name: "cut.pdf", MIME: "application/pdf", Data: cut})
	c.mt.PostMedia(c.carol.ID, me, "huge", tguserfake.File{Name: "huge.bin", MIME: "application/octet-stream", Data: huge})
	urls := map[string]string{}
	waitFor(t, ctx, "the documents never came", func() bool {
		for _, body := range []string{"whole", "cut", "huge"} {
			if in, ok := relayed(c.sink, body); ok && len(in.Media) > 0 {
				urls[body] = in.Media[0]
			}
		}
		return len(urls) == 3
	})
	srv := httptest.NewServer(http.StripPrefix("/media/tg", c.tr.Media()))
	defer srv.Close()
	get := func(body string) (*http.Response, []byte, error) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+strings.TrimPrefix(urls[body], "https://gw.example.test"), nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", body, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	const getFile = tg.UploadGetFileRequestTypeID

	c.mt.FailAfter(getFile, 1, tgerr.New(500, "INTERNAL"))
	resp, b, err := get("cut")
	c.mt.Fail(getFile, nil)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(cut)) || err == nil || len(b) >= len(cut) {
		t.Errorf("cut: %d, %d of %d bytes (Content-Length %d), read error %v; want the transfer to fail", resp.StatusCode, len(b), len(cut), resp.ContentLength, err)
	}

	before := c.mt.CallsOf(getFile)
	resp, b, err = get("huge")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || err != nil || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("huge: %d, %d bytes %.40q, %v, Content-Disposition %q; want 413", resp.StatusCode, len(b), b, err, resp.Header.Get("Content-Disposition"))
	}
	if n := c.mt.CallsOf(getFile) - before; n != 0 {
		t.Errorf("huge: %d upload.getFile calls; want none", n)
	}

	// Last: its handler reads on to the file's end after the client has it.
	resp, b, err = get("whole")
	if resp.StatusCode != http.StatusOK || err != nil || !bytes.Equal(b, whole) || resp.ContentLength != int64(len(whole)) {
		t.Errorf("whole: %d, %d bytes (Content-Length %d), %v; want 200 and all %d", resp.StatusCode, len(b), resp.ContentLength, err, len(whole))
	}
}
