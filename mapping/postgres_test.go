//go:build integration

package mapping

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"xmppgw/internal/pgtest"
)

// When the server ends the store's sessions (a restart, an operator), reads
// and writes fail with ErrUnavailable at most once, then work again on new
// connections, prepared statements included.
func TestPostgresRecoversFromLostSessions(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	s := openTest(t, DriverPostgres, "", dsn)
	other := openTest(t, DriverPostgres, "", dsn)
	kv := s.KV("t")
	if err := kv.Set(ctx, "k", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	retry := func(what string, f func() error) {
		t.Helper()
		var err error
		for try := 1; try <= 3; try++ {
			if err = f(); err == nil {
				if try > 2 {
					t.Errorf("%s failed %d times before working", what, try-1)
				}
				return
			}
			t.Logf("%s, try %d: %v", what, try, err)
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: %v does not wrap ErrUnavailable", what, err)
			}
		}
		t.Errorf("%s: still failing: %v", what, err)
	}
	retry("a write", func() error { return kv.Set(ctx, "k", "2") })
	retry("a read", func() error {
		v, err := kv.Get(ctx, "k")
		if err == nil && v != "2" {
			t.Errorf("read %q", v)
		}
		return err
	})
}

// Two processes writing one database commit one at a time, in the order
// their ids were handed out: a reader that saw an id has seen every lower
// one.
func TestPostgresWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	a := openTest(t, DriverPostgres, "", dsn)
	b := openTest(t, DriverPostgres, "", dsn)
	inserted, release := make(chan struct{}), make(chan struct{})
	bDone := make(chan error, 1)
	go func() {
		bDone <- b.tx(ctx, func(tx *sqlTx) error {
			err := exemptFromTxIdle(ctx, tx.tx)
			if err == nil {
				err = queueStanza(ctx, tx, "sms", []byte("<b/>"), b.millis())
			}
			close(inserted)
			<-release
			return err
		})
	}()
	<-inserted
	aDone := make(chan error, 1)
	go func() {
		_, err := a.ToXMPP().Accept(ctx, "sms", "", []byte("<a/>"))
		aDone <- err
	}()
	select {
	case err := <-aDone:
		t.Errorf("a committed while b's write was open (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if got := queuedStanzas(t, a, "sms"); !reflect.DeepEqual(got, []string{"<b/>", "<a/>"}) {
		t.Errorf("queued in id order: %q", got)
	}
}
