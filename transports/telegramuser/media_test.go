package telegramuser

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// Each GET of a media URL makes the account read the message and the file
// from Telegram: anyone holding one URL could otherwise keep any number of
// those requests in flight on the user's session (and a part buffer for
// each). At most mediaAtOnce run at once per account (an album of 10
// opened at once never waits), and transports.MediaPerURL of one URL; the
// others wait for a slot, without a request, and are served as those
// before them finish, not refused (clients do not retry a 503).
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
	// The photo under other names: other URLs, each signed.
	parts := strings.Split(strings.TrimPrefix(url, "https://gw.example.test/media/tg/"), "/")
	a := c.tr.byID(transports.Addr(parts[2]))
	id, ok := parseRef(parts[3])
	if a == nil || !ok {
		t.Fatalf("no account or message in %q", url)
	}
	for i, tc := range []struct{ files, opens, limit int }{
		0: {10, 1, 10},                       // an album
		1: {mediaAtOnce + 4, 1, mediaAtOnce}, // more than the bound
		2: {1, 5, transports.MediaPerURL},    // one URL, five times
	} {
		var paths []string
		for f := range tc.files {
			p := strings.TrimPrefix(a.mediaURL(id, "p"+strconv.Itoa(f)+".jpg"), "https://gw.example.test/media/tg")
			for range tc.opens {
				paths = append(paths, p)
			}
		}
		const getMessages = tg.MessagesGetMessagesRequestTypeID
		release := c.mt.HoldCalls(getMessages)
		h := c.tr.Media()
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got []*httptest.ResponseRecorder
		)
		for _, p := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil).WithContext(ctx))
				mu.Lock()
				got = append(got, w)
				mu.Unlock()
			}()
		}
		waiting := func() int { _, n := a.mediaLoad.Load(); return n }
		wantWaiting := len(paths) - tc.limit
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		waitFor(t, wctx, "the GETs never reached Telegram or a wait", func() bool {
			return c.mt.Held(getMessages) >= tc.limit && waiting() >= wantWaiting
		})
		wcancel()
		mu.Lock()
		answered := len(got)
		mu.Unlock()
		if held, w := c.mt.Held(getMessages), waiting(); held != tc.limit || w != wantWaiting || answered != 0 {
			t.Errorf("%d: %d messages.getMessages in flight on one account, %d GETs waiting, %d answered; want %d, %d and none",
				i, held, w, answered, tc.limit, wantWaiting)
		}
		release()
		wg.Wait()
		for _, w := range got {
			if w.Code != http.StatusOK || w.Body.String() != string(jpeg) {
				t.Errorf("%d: a GET answered %d %q", i, w.Code, w.Body.String())
			}
		}
	}
}

// TestMediaServedWholeOrFailed: a media URL is read by a real HTTP client
// on loopback. A document is served with its size as Content-Length; one
// Telegram breaks off in the middle (upload.getFile fails after its first
// part) is a failed transfer for the client, not a 200 with a short body
// that ends cleanly. One over maxMedia comes with a note and no link; a
// link to it (handed out before the note) is 413 before any of it is read.
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
	const hugeNote = "huge\n[huge.bin (50.1 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]"
	waitFor(t, ctx, "the documents never came", func() bool {
		for _, body := range []string{"whole", "cut"} {
			if in, ok := relayed(c.sink, body); ok && len(in.Media) > 0 {
				urls[body] = in.Media[0]
			}
		}
		if in, ok := relayed(c.sink, hugeNote); ok {
			if len(in.Media) != 0 {
				t.Fatalf("huge: links %q with the note", in.Media)
			}
			a := c.tr.byID(in.Account)
			r, ok := a.boxID(in.ID)
			if !ok {
				t.Fatalf("huge: id %q", in.ID)
			}
			urls["huge"] = a.mediaURL(r, "huge.bin")
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

// TestInboundFileTooLarge: a file over maxMedia, which the media handler
// could only answer 413, comes with no link but a note in the body,
// after the caption, naming it and its size. A file at the limit, or of
// a size Telegram does not give, gets its link.
func TestInboundFileTooLarge(t *testing.T) {
	sink := &transporttest.Sink{}
	p := transports.Params{State: &transporttest.KV{}, MediaURL: "https://gw.example.test/media/tg"}
	tr := &Transport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), p: p, signer: newSigner(p, "key")}
	tr.run.Store(&runState{ctx: context.Background(), sink: sink})
	a := &account{t: tr}
	a.self.Store(1000)
	doc := func(name string, size int64) tg.MessageMediaClass {
		return &tg.MessageMediaDocument{Document: &tg.Document{ID: 1, Size: size,
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: name}}}}
	}
	for i, c := range []struct {
		caption string
		media   tg.MessageMediaClass
		body    string
		link    bool
	}{
		0: {"our holiday", doc("holiday.mp4", maxMedia+1), "our holiday\n[holiday.mp4 (50.1 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]", false},
		1: {"", doc("talk.m4a", 1536<<20), "[talk.m4a (1536.0 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]", false},
		2: {"", doc("", 60<<20), "[file (60.0 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]", false},
		3: {"at the limit", doc("a.pdf", maxMedia), "at the limit", true},
		4: {"", doc("b.pdf", 0), "", true}, // size unknown
	} {
		m := &tg.Message{ID: 10 + i, PeerID: &tg.PeerUser{UserID: 7}, Message: c.caption, Date: 90, Media: c.media}
		if err := a.deliver(context.Background(), m, false); err != nil {
			t.Fatal(err)
		}
		got := sink.Inbound()
		if len(got) != i+1 {
			t.Fatalf("%d: %d messages relayed", i, len(got))
		}
		in := got[i]
		if in.Body != c.body || (len(in.Media) == 1) != c.link || len(in.Media) > 1 {
			t.Errorf("%d: %q with links %q; want %q and a link %v", i, in.Body, in.Media, c.body, c.link)
		}
	}
}
