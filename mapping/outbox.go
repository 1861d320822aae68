package mapping

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	deleteResendKey = `DELETE FROM seen WHERE transport = ? AND key = ?`
	upsertResendKey = `INSERT INTO seen (transport, key, created) VALUES (?, ?, ?)
		ON CONFLICT (transport, key) DO UPDATE SET created = excluded.created WHERE seen.created < ?`
	insertJob = `INSERT INTO outbox
		(transport, sender, account, remote, body, stanza_id, origin_id, receipt, markable, replaces,
		 reply_to, quote, media, retracts, react_to, reactions, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	upsertLastWriter = `INSERT INTO last_writer (transport, account, remote, jid, at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (transport, account, remote) DO UPDATE SET jid = excluded.jid, at = excluded.at`
	selectPendingJobs = `SELECT id, transport, sender, account, remote, body,
		stanza_id, origin_id, receipt, markable, replaces, reply_to, quote, media, retracts, react_to, reactions,
		attempts, created, inflight FROM outbox
		WHERE transport = ? AND id > ? ORDER BY id LIMIT ?`
	selectJobsByID = `SELECT id, transport, sender, account, remote, body,
		stanza_id, origin_id, receipt, markable, replaces, reply_to, quote, media, retracts, react_to, reactions,
		attempts, created, inflight FROM outbox
		WHERE transport = ? AND id IN ` // + the ids' placeholders
	markAttempted      = `UPDATE outbox SET attempts = attempts + 1, inflight = ? WHERE id = ?`
	selectKnownSent    = `SELECT 1 FROM sent WHERE transport = ? AND remote_id = ?`
	deleteJob          = `DELETE FROM outbox WHERE id = ?`
	selectEarlyReports = `SELECT state, code, text FROM early_report WHERE transport = ? AND remote_id = ?`
	selectEarlySent    = `SELECT e.remote_id, e.state, e.code, e.text FROM early_report e
		JOIN sent s ON s.transport = e.transport AND s.remote_id = e.remote_id
		WHERE e.transport = ? ORDER BY e.created`
	deleteEarlyReport = `DELETE FROM early_report WHERE transport = ? AND remote_id = ? AND state = ?`
	upsertSentRef     = `INSERT INTO sent_ref (transport, remote, sender, ref, remote_id, created)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (transport, remote, sender, ref) DO UPDATE SET remote_id = excluded.remote_id, created = excluded.created`
	selectSent = `SELECT sender, remote, stanza_id, receipt, markable FROM sent
		WHERE transport = ? AND remote_id = ?`
	insertEarlyReport = `INSERT INTO early_report
		(transport, remote_id, state, code, text, created) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (transport, remote_id, state) DO NOTHING`
	selectSentRef = `SELECT remote_id, created FROM sent_ref
		WHERE transport = ? AND remote = ? AND sender = ? AND ref = ?`
	selectSentByStanza = `SELECT remote_id, sender, created FROM sent
		WHERE transport = ? AND remote = ? AND stanza_id = ? ORDER BY created DESC`
	selectLastWriter = `SELECT jid FROM last_writer
		WHERE transport = ? AND account = ? AND remote = ?`
	selectSendsSince = `SELECT sender, created FROM outbox WHERE transport = ? AND created >= ?
		UNION ALL SELECT sender, created FROM sent WHERE transport = ? AND created >= ?
		ORDER BY 2`
	markUnresolved = `UPDATE outbox SET inflight = created
		WHERE transport = ? AND inflight = 0 AND created < ?`
	selectStanzaID = `SELECT stanza_id FROM sent WHERE transport = ? AND remote_id = ?`
	// Sent's record of a send: a new message's replaces any of the same
	// provider id; a correction's, a retraction's or a reaction's does
	// not (recordSentKeep).
	recordSent = `INSERT INTO sent (transport, remote_id, sender, remote, stanza_id, receipt, markable, created, resend_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (transport, remote_id) DO UPDATE SET sender = excluded.sender, remote = excluded.remote,
			stanza_id = excluded.stanza_id, receipt = excluded.receipt, markable = excluded.markable,
			created = excluded.created, resend_key = excluded.resend_key`
	recordSentKeep = `INSERT INTO sent (transport, remote_id, sender, remote, stanza_id, receipt, markable, created, resend_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (transport, remote_id) DO NOTHING`
)

// Job is a message from an XMPP user waiting to be sent to a provider.
type Job struct {
	ID        int64
	Transport string
	Sender    string // full JID of the XMPP sender
	Account   string // foreign identity to send from
	Remote    string // foreign recipient
	Body      string
	StanzaID  string
	OriginID  string   // the sender's XEP-0359 origin-id, or ""
	Receipt   bool     // the sender asked for a delivery receipt (XEP-0184)
	Markable  bool     // the sender marked it markable (XEP-0333)
	Replaces  string   // stanza id of the sender's earlier message this corrects, or ""
	ReplyTo   string   // stanza id of the message this replies to (XEP-0461), or ""
	Quote     string   // the quoted text of that message (the reply's fallback), or ""
	Media     []string // URLs of attachments (XEP-0066)
	Retracts  string   // stanza id of the sender's message to delete (XEP-0424); Body is then ""
	ReactTo   string   // stanza id of the message reacted to (XEP-0444); Body is then ""
	Reactions []string // the sender's reactions to it, replacing earlier ones; none removes them
	Attempts  int
	Created   time.Time
	Inflight  time.Time // when a send began whose outcome is unknown; zero if none

	// Shared says that several users send from Account, so the store must
	// remember who last wrote to Remote (not stored with the job).
	Shared bool
}

// resendWindow is how long an XMPP message is remembered by sender, stanza
// id, recipient and body, so that a client resending it (after a reconnect)
// does not send it twice. It is short because simple clients reuse ids.
const resendWindow = 10 * time.Minute

// Enqueue stores j and, if j.Shared, records its sender as the last writer
// to j.Remote, in one transaction. It returns the job's id, or dup if the same sender sent
// the same stanza (id, recipient and body) within the last few minutes.
func (h JobTable) Enqueue(ctx context.Context, j Job) (id int64, dup bool, err error) {
	res, err := h.EnqueueBatch(ctx, []Job{j})
	if err != nil {
		return 0, false, err
	}
	return res[0].ID, res[0].Dup, nil
}

// Enqueued is what EnqueueBatch did with one job.
type Enqueued struct {
	ID  int64 // the job's id, if it was queued
	Dup bool  // a resend within the window (see Enqueue): not queued again
}

// EnqueueBatch is Enqueue for several jobs, in one transaction: they are
// all stored, in order, or none is (an error wrapping ErrUnavailable). A job
// that repeats an earlier one of the same batch is a resend too.
func (h JobTable) EnqueueBatch(ctx context.Context, jobs []Job) ([]Enqueued, error) {
	s := h.s
	now := s.millis()
	out := make([]Enqueued, len(jobs))
	// With the window in memory, resends are found before the transaction;
	// a key whose first job is not committed yet is not a resend (at worst
	// the message is sent twice, never dropped).
	var keys []keyHash
	if s.resend != nil {
		since := now - resendWindow.Milliseconds()
		batch := make(map[keyHash]bool, len(jobs))
		for i, j := range jobs {
			if j.StanzaID == "" {
				continue
			}
			k := resendHash(j)
			if batch[k] || s.resend.has(k, since) {
				out[i].Dup = true
				continue
			}
			batch[k] = true
			keys = append(keys, k)
		}
	}
	err := s.txPatient(ctx, func(tx *sqlTx) error {
		for i, j := range jobs {
			if s.resend != nil && out[i].Dup {
				continue
			}
			out[i] = Enqueued{} // the committer may run this again
			id, dup, err := enqueue(ctx, tx, j, now, s.resend == nil)
			if err != nil {
				return err
			}
			out[i] = Enqueued{ID: id, Dup: dup}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.resend != nil {
		s.resend.add(keys, now, now-resendWindow.Milliseconds())
	}
	return out, nil
}

// enqueue is one job of EnqueueBatch; seenTable says that the resend
// window is the seen table (not in memory).
func enqueue(ctx context.Context, tx *sqlTx, j Job, now int64, seenTable bool) (id int64, dup bool, err error) {
	if j.StanzaID != "" && seenTable {
		key := resendKey(j)
		res, err := tx.ExecContext(ctx, upsertResendKey,
			j.Transport, key, now, now-resendWindow.Milliseconds())
		if err != nil {
			return 0, false, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return 0, true, nil
		}
	}
	id, err = tx.insertID(insertJob,
		j.Transport, j.Sender, j.Account, j.Remote, j.Body, j.StanzaID, j.OriginID, j.Receipt, j.Markable, j.Replaces,
		j.ReplyTo, j.Quote, strings.Join(j.Media, "\n"), j.Retracts, j.ReactTo, strings.Join(j.Reactions, "\n"), now)
	if err != nil {
		return 0, false, err
	}
	if !j.Shared {
		return id, false, nil
	}
	_, err = tx.ExecContext(ctx, upsertLastWriter,
		j.Transport, j.Account, j.Remote, bare(j.Sender), now)
	return id, false, err
}

// resendKey identifies an XMPP message for the resend window: its sender
// (bare), the account it is sent from, its recipient, stanza id and
// everything it carries. Simple clients reuse ids, so two messages with
// one id but other contents (two pictures, whose bodies are empty; two
// reactions) are two messages; and one text under one id sent from two
// numbers (the user's own, then a team inbox's) is two messages.
func resendKey(j Job) string {
	h := sha256.New()
	for _, part := range [][]string{{j.Body, j.Replaces, j.ReplyTo, j.Quote, j.Retracts, j.ReactTo}, j.Media, j.Reactions} {
		for _, v := range part {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	sum := h.Sum(nil)
	return "out:" + bare(j.Sender) + "\x00" + j.Account + "\x00" + j.Remote + "\x00" + j.StanzaID + "\x00" + hex.EncodeToString(sum[:12])
}

// Pending returns up to limit jobs of transport with ids above after, oldest
// first.
func (h JobTable) Pending(ctx context.Context, transport string, after int64, limit int) ([]Job, error) {
	s := h.s
	jobs, err := queryAll(ctx, s.query, scanJob, selectPendingJobs, transport, after, limit)
	return jobs, unavailable(err)
}

// JobsByID returns the queued jobs of transport among ids, oldest first;
// an id no longer queued is left out.
func (h JobTable) JobsByID(ctx context.Context, transport string, ids []int64) ([]Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, transport)
	for _, id := range ids {
		args = append(args, id)
	}
	q := selectJobsByID + "(?" + strings.Repeat(", ?", len(ids)-1) + ") ORDER BY id"
	jobs, err := queryAll(ctx, h.s.query, scanJob, q, args...)
	return jobs, unavailable(err)
}

// scanJob scans the columns of selectPendingJobs and selectJobsByID.
func scanJob(r *sql.Rows, j *Job) error {
	var created, inflight int64
	var media, reactions string
	if err := r.Scan(&j.ID, &j.Transport, &j.Sender, &j.Account, &j.Remote, &j.Body,
		&j.StanzaID, &j.OriginID, &j.Receipt, &j.Markable, &j.Replaces, &j.ReplyTo, &j.Quote, &media, &j.Retracts,
		&j.ReactTo, &reactions, &j.Attempts, &created, &inflight); err != nil {
		return err
	}
	j.Media, j.Reactions = splitLines(media), splitLines(reactions)
	j.Created = time.UnixMilli(created)
	if inflight != 0 {
		j.Inflight = time.UnixMilli(inflight)
	}
	return nil
}

// splitLines is the list a column holds joined by newlines (nil for "").
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Attempted records one more failed attempt at job id, and when the send
// whose outcome is unknown began (zero if the provider surely did not take
// it).
func (h JobTable) Attempted(ctx context.Context, id int64, inflight time.Time) error {
	s := h.s
	var mark int64
	if !inflight.IsZero() {
		mark = inflight.UnixMilli()
	}
	return s.txPatient(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, markAttempted, mark, id)
		return err
	})
}

// KnownRemote reports whether a provider id is recorded as one of our sends.
func (h JobTable) KnownRemote(ctx context.Context, transport, remoteID string) (bool, error) {
	s := h.s
	var one int
	err := s.queryRow(ctx, selectKnownSent,
		transport, remoteID).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

// Report is a provider's delivery report, kept when it arrives early.
type Report struct {
	RemoteID, State, Code, Text string
}

// Sent removes job j from the queue and remembers that the provider accepted
// it as remoteID, so delivery reports can find the sender, and queues the
// stanzas for XMPP (what acknowledges the acceptance), in one transaction.
// Only a new message's record replaces one of the same remoteID: a
// correction's, a retraction's or a reaction's never does.
// It returns the reports on remoteID that arrived before this call: they
// stay stored until ReportedEarly, so that a crash in between leaves them
// for EarlyReportsSent.
func (h JobTable) Sent(ctx context.Context, j Job, remoteID string, stanzas ...[]byte) ([]Report, error) {
	s := h.s
	var early []Report
	err := s.txPatient(ctx, func(tx *sqlTx) error {
		early = early[:0]
		del, err := tx.ExecContext(ctx, deleteJob, j.ID)
		if err != nil {
			return err
		}
		queue := stanzas
		if n, err := del.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			queue = nil // queued with the job's removal already: a rerun after a commit that seemed to fail
		}
		for _, st := range queue {
			if err := queueStanza(ctx, tx, j.Transport, st, s.millis()); err != nil {
				return err
			}
		}
		if remoteID == "" {
			return keepResendKey(ctx, tx, j, s.millis())
		}
		// A correction keeps the record of the message it edits: later
		// corrections refer to the original's stanza id too. A retraction
		// or a reaction never stands for another send's message.
		q := recordSent
		keep := j.Replaces != "" || j.Retracts != "" || j.ReactTo != ""
		if keep {
			q = recordSentKeep
		}
		res, err := tx.ExecContext(ctx, q, j.Transport, remoteID, j.Sender, j.Remote, j.StanzaID, j.Receipt, j.Markable, s.millis(),
			resendKeyOf(j))
		if err != nil {
			return err
		}
		if keep && s.resend != nil {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 { // sent keeps the other send's row
				if err := keepResendKey(ctx, tx, j, s.millis()); err != nil {
					return err
				}
			}
		}
		if err := recordRefs(ctx, tx, j, remoteID, s.millis()); err != nil {
			return err
		}
		if !s.d.shared && s.earlyReports.Load() == 0 {
			return nil // none kept: skip the lookup (the common case)
		}
		early, err = queryAll(ctx, tx.QueryContext, func(r *sql.Rows, e *Report) error {
			e.RemoteID = remoteID
			return r.Scan(&e.State, &e.Code, &e.Text)
		}, selectEarlyReports, j.Transport, remoteID)
		return err
	})
	return early, err
}

// ReportedEarly stores stanza (none if nil), the answer to the early
// report r on a send now recorded, under key (deduplicated as Accept's),
// and forgets r, in one transaction.
func (h JobTable) ReportedEarly(ctx context.Context, transport string, r Report, key string, stanza []byte) error {
	s := h.s
	drop := func(tx *sqlTx, _ int64) error {
		_, err := tx.ExecContext(ctx, deleteEarlyReport, transport, r.RemoteID, r.State)
		return err
	}
	if stanza == nil {
		return s.tx(ctx, func(tx *sqlTx) error { return drop(tx, 0) })
	}
	_, dup, err := s.acceptIDs(ctx, transport, key, drop, stanza)
	if err == nil && dup { // answered already (a replay came after Sent)
		err = s.tx(ctx, func(tx *sqlTx) error { return drop(tx, 0) })
	}
	return err
}

// EarlyReportsSent returns transport's early reports on sends now recorded,
// oldest first: those Sent returned whose ReportedEarly a crash or a
// shutdown kept from running.
func (h JobTable) EarlyReportsSent(ctx context.Context, transport string) ([]Report, error) {
	s := h.s
	if !s.d.shared && s.earlyReports.Load() == 0 {
		return nil, nil
	}
	out, err := queryAll(ctx, s.query, func(r *sql.Rows, e *Report) error {
		return r.Scan(&e.RemoteID, &e.State, &e.Code, &e.Text)
	}, selectEarlySent, transport)
	return out, unavailable(err)
}

// keepResendKey keeps j's resend key in seen, for a store whose window is
// in memory (SQLite) to read back at open, when j's send has no sent row
// of its own (see loadResendKeys). PostgreSQL has it there already.
func keepResendKey(ctx context.Context, tx *sqlTx, j Job, now int64) error {
	if tx.s.resend == nil || j.StanzaID == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, upsertResendKey, j.Transport, resendKey(j), now, now)
	return err
}

// recordRefs keeps the ids by which j's sender may refer to the message
// sent as remoteID that sent itself does not hold: j's origin-id when it
// differs from its stanza id, and a correction's own ids (sent keeps the
// original's). The message a correction edits is then known by the
// correction's remote id: it may have grown into more messages (Telegram).
func recordRefs(ctx context.Context, tx *sqlTx, j Job, remoteID string, now int64) error {
	refs := make([]string, 0, 3)
	if j.Replaces != "" {
		refs = append(refs, j.Replaces)
	}
	if j.Replaces != "" && j.StanzaID != "" {
		refs = append(refs, j.StanzaID)
	}
	if j.OriginID != "" && j.OriginID != j.StanzaID {
		refs = append(refs, j.OriginID)
	}
	for _, ref := range refs {
		if _, err := tx.ExecContext(ctx, upsertSentRef,
			j.Transport, j.Remote, bare(j.Sender), ref, remoteID, now); err != nil {
			return err
		}
	}
	return nil
}

// Failed removes job j from the queue and, in the same transaction, queues
// the stanza that tells its sender so. j leaves the resend window: its
// sender, told it failed, may send it again, and that is no resend.
func (h JobTable) Failed(ctx context.Context, j Job, stanza []byte) error {
	s := h.s
	err := s.txPatient(ctx, func(tx *sqlTx) error {
		if _, err := tx.ExecContext(ctx, deleteJob, j.ID); err != nil {
			return err
		}
		if s.resend == nil && j.StanzaID != "" {
			if _, err := tx.ExecContext(ctx, deleteResendKey, j.Transport, resendKey(j)); err != nil {
				return err
			}
		}
		return queueStanza(ctx, tx, j.Transport, stanza, s.millis())
	})
	if err == nil && s.resend != nil && j.StanzaID != "" {
		s.resend.remove(resendHash(j))
	}
	return err
}

// SentRecord is what the store remembers of a message a provider accepted.
type SentRecord struct {
	Sender   string
	Remote   string
	StanzaID string
	Receipt  bool // XEP-0184 requested
	Markable bool // XEP-0333 markable
}

// LookupSent finds the message the provider knows as r.RemoteID. If there is
// none yet, it keeps r, atomically, for Sent to return when it comes.
func (h JobTable) LookupSent(ctx context.Context, transport string, r Report) (SentRecord, bool, error) {
	s := h.s
	var rec SentRecord
	var found bool
	err := s.tx(ctx, func(tx *sqlTx) error {
		err := tx.QueryRowContext(ctx, selectSent, transport, r.RemoteID).
			Scan(&rec.Sender, &rec.Remote, &rec.StanzaID, &rec.Receipt, &rec.Markable)
		if err == nil {
			found = true
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		s.earlyReports.Add(1) // before the insert: Sent must not skip a report
		_, err = tx.ExecContext(ctx, insertEarlyReport,
			transport, r.RemoteID, r.State, r.Code, r.Text, s.millis())
		return err
	})
	return rec, found, err
}

// SentID returns the provider's id for the message that user (a bare JID)
// sent to remote and refers to as ref: its stanza id or origin-id, or a
// correction's, if it was sent and is still remembered. A client that
// reuses ids means its last message of that id: of several, the one
// recorded last wins (a tie goes to sent_ref's, which a correction moves).
func (h JobTable) SentID(ctx context.Context, transport, remote, user, ref string) (string, bool, error) {
	s := h.s
	if ref == "" {
		return "", false, nil
	}
	var refID string
	var refAt int64
	err := s.queryRow(ctx, selectSentRef, transport, remote, user, ref).Scan(&refID, &refAt)
	byRef := err == nil
	if err != nil && err != sql.ErrNoRows {
		return "", false, unavailable(err)
	}
	type send struct {
		id, sender string
		at         int64
	}
	sends, err := queryAll(ctx, s.query, func(r *sql.Rows, v *send) error { return r.Scan(&v.id, &v.sender, &v.at) },
		selectSentByStanza, transport, remote, ref)
	if err != nil {
		return "", false, unavailable(err)
	}
	for _, v := range sends { // the newest first
		if bare(v.sender) == user {
			if !byRef || v.at > refAt {
				return v.id, true, nil
			}
			break
		}
	}
	return refID, byRef, nil
}

// LastWriter returns the bare JID of the user who last wrote to remote from
// account, or "".
func (h JobTable) LastWriter(ctx context.Context, transport, account, remote string) (string, error) {
	s := h.s
	var user string
	err := s.queryRow(ctx, selectLastWriter, transport, account, remote).Scan(&user)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err)
	}
	return user, nil
}

// bare strips the resource from a JID string.
func bare(j string) string {
	for i := 0; i < len(j); i++ {
		if j[i] == '/' {
			return j[:i]
		}
	}
	return j
}

// Send is one message a user sent through a transport, for rate caps.
type Send struct {
	User string // bare JID
	At   time.Time
}

// SendsSince returns the messages users sent through transport since a
// time, queued or sent, oldest first.
func (h JobTable) SendsSince(ctx context.Context, transport string, since time.Time) ([]Send, error) {
	s := h.s
	out, err := queryAll(ctx, s.query, func(r *sql.Rows, v *Send) error {
		var at int64
		if err := r.Scan(&v.User, &at); err != nil {
			return err
		}
		v.User, v.At = bare(v.User), time.UnixMilli(at)
		return nil
	}, selectSendsSince, transport, since.UnixMilli(), transport, since.UnixMilli())
	return out, unavailable(err)
}

// MarkUnresolved marks every job of transport queued before a time, and not
// marked yet, as possibly sent (in flight since it was queued): after a run
// that died, any of them may have reached the provider.
func (h JobTable) MarkUnresolved(ctx context.Context, transport string, before time.Time) (int64, error) {
	s := h.s
	var n int64
	err := s.tx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, markUnresolved, transport, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// StanzaIDOf returns the stanza id of the message the provider knows as
// remoteID (one sent from XMPP), if it is recorded.
func (h JobTable) StanzaIDOf(ctx context.Context, transport, remoteID string) (string, bool, error) {
	s := h.s
	var id string
	err := s.queryRow(ctx, selectStanzaID, transport, remoteID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable(err)
	}
	return id, true, nil
}
