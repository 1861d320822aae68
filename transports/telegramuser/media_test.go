package telegramuser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

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
