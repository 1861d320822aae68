package logbuf

import (
	"strings"
	"sync"
	"testing"
)

// Writes from many goroutines are each kept whole.
func TestConcurrentWritesWhole(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line of text\n"))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	for i, l := range lines {
		if l != "line of text" {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}
