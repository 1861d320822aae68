package transporttest

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// MediaBurst GETs every URL of urls at once, from a real HTTP client,
// while the media handler's upstream holds every request it gets (held
// counts them), until as many as the handler's bound (limit) are held and
// the others wait for a slot (waiting counts them, as
// transports.MediaSlots.Load does). It reports an error if another number
// is held or waits, or if any GET is answered before release lets the
// held ones go; then every GET, those that waited included, must be
// answered 200.
func MediaBurst(t *testing.T, urls []string, limit int, held, waiting func() int, release func()) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		codes    []int
		answered int
	)
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u)
			mu.Lock()
			answered++
			mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			codes = append(codes, resp.StatusCode)
			mu.Unlock()
		}()
	}
	wantHeld := min(limit, len(urls))
	wantWaiting := len(urls) - wantHeld
	deadline := time.Now().Add(10 * time.Second)
	early := func() int { mu.Lock(); defer mu.Unlock(); return answered }
	for (held() < wantHeld || waiting() < wantWaiting) && early() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h, w, a := held(), waiting(), early(); h != wantHeld || w != wantWaiting || a != 0 {
		t.Errorf("%d GETs held upstream, %d waiting for a slot, %d answered; want %d, %d and none", h, w, a, wantHeld, wantWaiting)
	}
	release()
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusOK {
			t.Errorf("a GET answered %d", c)
		}
	}
}
