package mapping

import (
	"context"
	"time"
)

// Prune forgets dedupe keys, sent-message records and unmatched early
// reports older than before, and expired link codes. Queued messages are
// never pruned.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	ms := before.UnixMilli()
	err := s.tx(ctx, func(tx *sqlTx) error {
		for _, q := range []string{
			`DELETE FROM seen WHERE created < ?`,
			`DELETE FROM sent WHERE created < ?`,
			`DELETE FROM sent_ref WHERE created < ?`,
			`DELETE FROM early_report WHERE created < ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, ms); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM link_codes WHERE expires < ?`, s.millis()); err != nil {
			return err
		}
		// Recounted here, in the committer, so no insert slips between.
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM early_report`).Scan(&n); err != nil {
			return err
		}
		s.earlyReports.Store(n)
		return nil
	})
	return err
}
