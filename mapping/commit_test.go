package mapping

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// Writes committed together each run in a savepoint: one whose statement
// fails is rolled back alone, even after it wrote, and the others commit.
func TestGroupCommitSavepoints(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.KV("t").Set(ctx, "taken", "0"); err != nil {
			t.Fatal(err)
		}
		// Hold the committer, so the writes below queue and form one group.
		hold, held := make(chan struct{}), make(chan struct{})
		go s.tx(ctx, func(*sqlTx) error { close(held); <-hold; return nil })
		<-held
		const n, failing = 6, 2
		txs := make([]*sqlTx, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.tx(ctx, func(tx *sqlTx) error {
					txs[i] = tx
					if _, err := tx.ExecContext(ctx, `INSERT INTO kv (transport, key, value) VALUES ('t', ?, 'x')`, fmt.Sprint("k", i)); err != nil {
						return err
					}
					if i != failing {
						return nil
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO kv (transport, key, value) VALUES ('t', 'taken', 'dup')`)
					return err // a primary key violation
				})
			}()
		}
		time.Sleep(300 * time.Millisecond) // the writers reach the committer's queue
		close(hold)
		wg.Wait()
		for i := range n {
			if txs[i] != txs[0] {
				t.Fatalf("writes %d and 0 were committed apart: the test needs one group", i)
			}
			if i == failing {
				if !errors.Is(errs[i], ErrUnavailable) {
					t.Errorf("the failing write returned %v", errs[i])
				}
			} else if errs[i] != nil {
				t.Errorf("write %d: %v", i, errs[i])
			}
		}
		for i := range n {
			v, err := s.KV("t").Get(ctx, fmt.Sprint("k", i))
			if want := map[bool]string{true: "", false: "x"}[i == failing]; v != want || err != nil {
				t.Errorf("k%d = %q, %v; want %q", i, v, err, want)
			}
		}
		if v, _ := s.KV("t").Get(ctx, "taken"); v != "0" {
			t.Errorf("taken = %q", v)
		}
		// The store still works after the rollback.
		if err := s.KV("t").Set(ctx, "after", "1"); err != nil {
			t.Error(err)
		}
	})
}

// Rerun writes of one group share a savepoint: when all succeed each runs
// once; when one fails, each runs again alone (those queued after it for
// the first time), and all but it commit, as does a plain write of the
// same group.
func TestGroupCommitReruns(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		for _, failing := range []int{-1, 2} {
			ctx := context.Background()
			s := open(t)
			if err := s.KV("t").Set(ctx, "taken", "0"); err != nil {
				t.Fatal(err)
			}
			// Keys of this round: the store may be the same for both.
			hold, held := make(chan struct{}), make(chan struct{})
			go s.tx(ctx, func(*sqlTx) error { close(held); <-hold; return nil })
			<-held
			const n = 5
			var mu sync.Mutex
			runs := make([]int, n+1)
			errs := make([]error, n+1)
			var wg sync.WaitGroup
			for i := range n + 1 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f := func(tx *sqlTx) error {
						mu.Lock()
						runs[i]++
						mu.Unlock()
						if _, err := tx.ExecContext(ctx, `INSERT INTO kv (transport, key, value) VALUES ('t', ?, 'x')`, fmt.Sprint("k", failing, "-", i)); err != nil {
							return err
						}
						if i != failing {
							return nil
						}
						_, err := tx.ExecContext(ctx, `INSERT INTO kv (transport, key, value) VALUES ('t', 'taken', 'dup')`)
						return err
					}
					if i == n {
						errs[i] = s.tx(ctx, f) // a plain write in the same group
					} else {
						errs[i] = s.txRerun(ctx, f)
					}
				}()
			}
			time.Sleep(300 * time.Millisecond) // the writers reach the committer's queue
			close(hold)
			wg.Wait()
			for i := range n + 1 {
				// Merged (those queued before the failing one, and it),
				// then alone; the plain write once.
				switch {
				case failing < 0 || i == n:
					if runs[i] != 1 {
						t.Errorf("failing %d: write %d ran %d times, want once", failing, i, runs[i])
					}
				case i == failing:
					if runs[i] != 2 {
						t.Errorf("the failing write ran %d times, want twice (merged, then alone)", runs[i])
					}
				case runs[i] < 1 || runs[i] > 2:
					t.Errorf("failing %d: write %d ran %d times, want once or twice", failing, i, runs[i])
				}
				v, err := s.KV("t").Get(ctx, fmt.Sprint("k", failing, "-", i))
				if i == failing {
					if !errors.Is(errs[i], ErrUnavailable) || v != "" {
						t.Errorf("the failing write returned %v and left %q", errs[i], v)
					}
				} else if errs[i] != nil || v != "x" || err != nil {
					t.Errorf("failing %d: write %d: %v; k%d = %q, %v", failing, i, errs[i], i, v, err)
				}
			}
			if v, _ := s.KV("t").Get(ctx, "taken"); v != "0" {
				t.Errorf("taken = %q", v)
			}
		}
	})
}

// A write's error keeps its cause: ErrUnavailable and, wrapped with it,
// what the driver or the context said.
func TestWriteErrorKeepsCause(t *testing.T) {
	s := openTest(t, DriverSQLite, filepath.Join(t.TempDir(), "gw.db"), "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	block := make(chan struct{})
	// Keep the committer busy, so that the cancelled write is not taken.
	go s.tx(context.Background(), func(*sqlTx) error { <-block; return nil })
	time.Sleep(10 * time.Millisecond)
	err := s.tx(ctx, func(*sqlTx) error { return nil })
	close(block)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v; want ErrUnavailable wrapping context.Canceled", err)
	}
	err = s.tx(context.Background(), func(tx *sqlTx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO no_such_table VALUES (1)`)
		return err
	})
	var driverErr *sqlite.Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &driverErr) || !strings.Contains(driverErr.Error(), "no such table") {
		t.Errorf("failed statement: %v", err)
	}
}

// A busy committer's group of patient writes takes the writes already
// waiting, up to lingerGroup, and stops at an impatient one; a group with an
// impatient write does not wait.
func TestLinger(t *testing.T) {
	p, i := true, false
	for _, tc := range []struct {
		name          string
		group, queued []bool // patient or not, in order
		want, left    int    // the group's size after, the writes still queued
	}{
		{name: "takes what waits", group: []bool{p}, queued: []bool{p, p}, want: 3},
		{name: "stops at an impatient write", group: []bool{p}, queued: []bool{p, i, p}, want: 3, left: 1},
		{name: "impatient in the group", group: []bool{p, i}, queued: []bool{p}, want: 2, left: 1},
		{name: "alone", group: []bool{p}, want: 1},
		{name: "bounded", group: []bool{p}, queued: slices.Repeat([]bool{p}, 100), want: lingerGroup, left: 101 - lingerGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{writes: make(chan *write, len(tc.queued)), closed: make(chan struct{})}
			var group []*write
			for _, patient := range tc.group {
				group = append(group, &write{patient: patient})
			}
			for _, patient := range tc.queued {
				s.writes <- &write{patient: patient}
			}
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			if got := s.linger(group, timer); len(got) != tc.want || len(s.writes) != tc.left {
				t.Errorf("group of %d, %d left; want %d, %d left", len(got), len(s.writes), tc.want, tc.left)
			}
		})
	}
}
