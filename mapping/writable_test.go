package mapping

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// CheckWrite fails while the store cannot be written (another process
// holds SQLite's write lock), answers within its caller's deadline, and
// passes again once the write gets through.
func TestCheckWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "gw.db")
	s := openTest(t, DriverSQLite, path, "")

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil { // the write lock
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	err = s.CheckWrite(short)
	cancelShort()
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("CheckWrite with the write lock taken: %v, want ErrUnavailable", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWrite(ctx); err != nil { // the same write, let through
		t.Errorf("CheckWrite once the lock is released: %v", err)
	}
	if err := s.CheckWrite(ctx); err != nil {
		t.Errorf("CheckWrite again: %v", err)
	}

	s.Close()
	if err := s.CheckWrite(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("CheckWrite on a closed store: %v, want ErrUnavailable", err)
	}
}
