package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	p := Policy{Min: time.Second, Max: 30 * time.Second}
	tests := []struct {
		attempt int
		full    time.Duration
	}{
		{0, time.Second}, {1, 2 * time.Second}, {4, 16 * time.Second}, {5, 30 * time.Second}, {100, 30 * time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if d := p.Delay(tt.attempt); d < tt.full/2 || d > tt.full {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.full/2, tt.full)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) did not pass")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep on a done context passed")
	}
}
