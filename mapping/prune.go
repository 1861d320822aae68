package mapping

import (
	"context"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	pruneSeen         = `DELETE FROM seen WHERE created < ?`
	pruneSent         = `DELETE FROM sent WHERE created < ?`
	pruneSentRefs     = `DELETE FROM sent_ref WHERE created < ?`
	pruneEarlyReports = `DELETE FROM early_report WHERE created < ?`
	pruneLinkCodes    = `DELETE FROM link_codes WHERE expires < ?`
	pruneKV           = `DELETE FROM kv WHERE expires > 0 AND expires < ?`
	pruneAlertGroups  = `DELETE FROM alert_groups WHERE updated < ?`
	pruneAlertNotes   = `DELETE FROM alert_notes WHERE (code = '' AND created < ?)
		OR (code <> '' AND NOT EXISTS (SELECT 1 FROM alert_groups WHERE alert_groups.code = alert_notes.code))`
	countEarlyReports = `SELECT count(*) FROM early_report`
)

// Prune forgets dedupe keys, sent-message records and unmatched early
// reports older than before, alert groups not heard of since before (an
// Alertmanager that never sends their resolution) with their
// notifications, closed groups' notifications closed before before, closed
// groups kept longer than alertClosedKept (see Closed), and expired link
// codes. Queued messages are never pruned.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	ms := before.UnixMilli()
	err := s.tx(ctx, func(tx *sqlTx) error {
		for _, q := range []string{
			pruneSeen,
			pruneSent,
			pruneSentRefs,
			pruneEarlyReports,
			pruneAlertGroups,
		} {
			if _, err := tx.ExecContext(ctx, q, ms); err != nil {
				return err
			}
		}
		if s.events != nil {
			if _, err := tx.ExecContext(ctx, pruneSeenEvents, ms); err != nil {
				return err
			}
		}
		if s.resend != nil { // seen holds only resend keys (see loadResendKeys)
			if _, err := tx.ExecContext(ctx, pruneSeenResendKeys, s.millis()-resendWindow.Milliseconds()); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, pruneLinkCodes, s.millis()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, pruneKV, s.millis()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, pruneAlertNotes, ms); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, pruneClosedGroups, s.millis()-alertClosedKept.Milliseconds()); err != nil {
			return err
		}
		// Recounted here, in the committer, so no insert slips between.
		var n int64
		if err := tx.QueryRowContext(ctx, countEarlyReports).Scan(&n); err != nil {
			return err
		}
		s.earlyReports.Store(n)
		return nil
	})
	if err == nil && s.events != nil {
		s.events.forget(ms)
	}
	return err
}
