package mapping

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// Two `xmppgw run` on one SQLite file (a second run by hand beside the
// service, two units with one config) must not both lead: both would send
// every queued job. The second fails at once, naming the lock file, while
// stores that do not lead (the shell's commands) still work; once the
// first lets go, by release or Close, another may lead.
func TestLeadSQLiteOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.db")
	a := openTest(t, DriverSQLite, path, "")
	b := openTest(t, DriverSQLite, path, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, release, err := a.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A Lead that waited would never return while a holds the lock.
	_, _, err = b.Lead(ctx)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), LockPath(path)) || !strings.Contains(err.Error(), "another xmppgw runs") {
		t.Fatalf("a second leader on the same SQLite file: err %v, want ErrLocked naming %s", err, LockPath(path))
	}
	// The shell's commands share the file while it is held.
	shell := openTest(t, DriverSQLite, path, "")
	if _, _, err := shell.Jobs().Enqueue(ctx, Job{Transport: "sms", Sender: "alice@example.test/pc", Account: "+15550001111",
		Remote: "+15557654321", Body: "once", StanzaID: "s1"}); err != nil {
		t.Fatalf("a store that does not lead cannot write beside the leader: %v", err)
	}
	release()
	_, releaseB, err := b.Lead(ctx)
	if err != nil {
		t.Fatalf("after release, another cannot lead: %v", err)
	}
	releaseB()
	// Close gives the lead up too.
	if _, _, err := a.Lead(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, releaseB, err = b.Lead(ctx); err != nil {
		t.Fatalf("after Close, another cannot lead: %v", err)
	}
	releaseB()
}

// A process that will lead the SQLite store (a second `xmppgw run`, maybe
// of a newer binary) takes the lock before it opens the database: refused,
// it has not touched the file, not even brought its schema up to date
// under the gateway running on it. Holding the lock, its first Lead
// returns it; Close lets it go.
func TestOpenSQLiteLeadingLocksBeforeOpening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.db")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lock, err := lockStore(path) // the running gateway's
	if err != nil {
		t.Fatal(err)
	}
	if s, err := OpenSQLiteLeading(ctx, path); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another xmppgw runs") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenSQLiteLeading beside a leader: err %v, want ErrLocked", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused OpenSQLiteLeading touched the database: %v", err)
	}
	lock.Close()

	a, err := OpenSQLiteLeading(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLiteLeading(ctx, path); !errors.Is(err, ErrLocked) {
		t.Errorf("a second OpenSQLiteLeading: err %v, want ErrLocked", err)
	}
	b := openTest(t, DriverSQLite, path, "") // the shell's
	if _, _, err := b.Lead(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("Lead beside a store opened leading: err %v, want ErrLocked", err)
	}
	lost, release, err := a.Lead(ctx)
	if err != nil {
		t.Fatalf("the first Lead of a store opened leading: %v", err)
	}
	if _, _, err := a.Lead(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("a second Lead of a store opened leading: err %v, want ErrLocked", err)
	}
	select {
	case <-lost:
		t.Error("lost closed")
	default:
	}
	release()
	_, releaseB, err := b.Lead(ctx)
	if err != nil {
		t.Fatalf("after release, another cannot lead: %v", err)
	}
	releaseB()
	a.Close()

	// Close lets the lock go, though no Lead took it.
	a, err = OpenSQLiteLeading(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, releaseB, err = b.Lead(ctx); err != nil {
		t.Fatalf("after Close, another cannot lead: %v", err)
	}
	releaseB()
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
