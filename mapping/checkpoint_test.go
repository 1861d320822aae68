package mapping

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointRestartsWAL: under steady writes (the committer never
// idle), the WAL is still checkpointed and started over, so it stays
// bounded; SQLite's automatic checkpoint is off in this store.
func TestCheckpointRestartsWAL(t *testing.T) {
	defer func(n int) { checkpointRestart = n }(checkpointRestart)
	checkpointRestart = 64
	path := filepath.Join(t.TempDir(), "gw.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	var peak int64
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if _, _, err := s.Jobs().Enqueue(ctx, benchJob(i)); err != nil {
			t.Fatal(err)
		}
		frames, err := walFrames(path)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && frames < peak && peak > int64(checkpointRestart) {
			t.Logf("the WAL started over after %d writes, at %d pages (file %d bytes)", i, peak, walSize())
			return
		}
		peak = max(peak, frames)
	}
	t.Fatalf("the WAL never started over in 20 s of writes: %d pages", peak)
}

// walFrames is the WAL's length in pages, mxFrame in the header of the
// WAL index (the -shm file; native byte order), read without taking a lock
// or checkpointing anything.
func walFrames(db string) (int64, error) {
	f, err := os.Open(db + "-shm")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0, fmt.Errorf("read the WAL index: %w", err)
	}
	return int64(binary.NativeEndian.Uint32(hdr[16:])), nil
}
