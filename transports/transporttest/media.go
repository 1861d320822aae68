package transporttest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// MediaBurst GETs u n times at once, from a real HTTP client, while the
// media handler's upstream holds every request it gets (held counts
// them), until the GETs past limit are answered and limit are held; then
// release lets the held ones go. It returns how many GETs were answered
// 200 and how many 503, and reports an error for any other answer, a 503
// without Retry-After: 1 and the media headers, or another number held.
func MediaBurst(t *testing.T, u string, n, limit int, held func() int, release func()) (served, busy int) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes []int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode == http.StatusServiceUnavailable &&
				(h.Get("Retry-After") != "1" || h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox")) {
				t.Errorf("a GET past the limit was answered with headers %v", h)
			}
			mu.Lock()
			codes = append(codes, resp.StatusCode)
			mu.Unlock()
		}()
	}
	answered := func() int { mu.Lock(); defer mu.Unlock(); return len(codes) }
	deadline := time.Now().Add(10 * time.Second)
	for (answered() < n-limit || held() < limit) && held() <= limit {
		if time.Now().After(deadline) {
			t.Errorf("%d answered and %d held; want %d answered while %d are held", answered(), held(), n-limit, limit)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h := held(); h != limit {
		t.Errorf("%d requests held upstream at once; want %d", h, limit)
	}
	release()
	wg.Wait()
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			served++
		case http.StatusServiceUnavailable:
			busy++
		default:
			t.Errorf("a GET answered %d", c)
		}
	}
	return served, busy
}
