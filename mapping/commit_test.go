package mapping

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
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
