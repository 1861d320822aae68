package mapping

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// On SQLite the one process using the database leads at once, for good.
func TestLeadSQLite(t *testing.T) {
	s := openTest(t, DriverSQLite, filepath.Join(t.TempDir(), "gw.db"), "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	lost, release, err := s.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release()
	select {
	case <-lost:
		t.Error("lost closed")
	default:
	}
}

type leadResult struct {
	lost    <-chan struct{}
	release func()
	err     error
}

func leadAsync(s *Store, ctx context.Context) <-chan leadResult {
	c := make(chan leadResult, 1)
	go func() {
		lost, release, err := s.Lead(ctx)
		c <- leadResult{lost, release, err}
	}()
	return c
}
