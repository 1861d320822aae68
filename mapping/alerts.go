package mapping

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectAlertGroups = `SELECT key, code, route, subject, labels, firing, full_text, sms_text, recipients,
		acked_by, acked_at, steps, since, answers, route_id, base FROM alert_groups ORDER BY since, code`
	insertAlertGroup = `INSERT INTO alert_groups (key, code, route, subject, labels, firing, full_text, sms_text,
		recipients, acked_by, acked_at, steps, since, answers, route_id, base, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateAlertGroup = `UPDATE alert_groups SET subject = ?, labels = ?, firing = ?, full_text = ?, sms_text = ?,
		recipients = ?, acked_by = ?, acked_at = ?, steps = ?, since = ?, answers = ?, route_id = ?, base = ?, updated = ? WHERE key = ?`
	deleteAlertGroup = `DELETE FROM alert_groups WHERE key = ? RETURNING code`
	keepClosedGroup  = `INSERT INTO alert_closed (key, code, route, route_id, base, recipients, closed)
		SELECT key, code, route, route_id, base, recipients, ? FROM alert_groups WHERE key = ?
		ON CONFLICT (key) DO UPDATE SET closed = excluded.closed`
	selectClosedGroups = `SELECT key, code, route, route_id, base, recipients FROM alert_closed
		WHERE closed >= ? ORDER BY closed DESC, key`
	pruneClosedGroups = `DELETE FROM alert_closed WHERE closed < ?`
	closeAlertNotes   = `UPDATE alert_notes SET code = '', created = ? WHERE code = ?`
	insertAlertNote   = `INSERT INTO alert_notes (id, code, created) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code`
	selectAlertNote = `SELECT code FROM alert_notes WHERE id = ?`
	countAlertCode  = `SELECT count(*) FROM alert_groups WHERE code = ?`
)

// AlertTable holds the open alert groups, with their codes and recipients
// (alert_groups), the notifications sent for them (alert_notes), and the
// groups closed lately (alert_closed).
type AlertTable struct{ s *Store }

// Alerts is the store's alert groups.
func (s *Store) Alerts() AlertTable { return AlertTable{s} }

// AlertGroup is an open alert group: one route's share of one Alertmanager
// group, from its first firing notification until it resolves.
type AlertGroup struct {
	Key        string // unique, stable for the group: its base, route when opened and a nonce (look it up by Base and RouteID)
	Code       string // unique among open groups
	Route      int    // the route's index when opened; see RouteID
	RouteID    string // the route's identity; "" if opened before it was kept
	Base       string // the key without the route; "" if opened before it was kept
	Subject    string
	Labels     map[string]string // the group's labels, for a silence
	Firing     string            // the firing alerts' fingerprints, to tell a change
	FullText   string
	SMSText    string
	Recipients []string // destination JIDs
	AckedBy    string   // "" if nobody acknowledged it
	AckedAt    time.Time
	Steps      int // escalation steps done
	Since      time.Time
	Answers    []AlertAnswer // the latest answers acted on, oldest first
}

// AlertAnswer is an answer acted on: its key (the event it came in), what
// every recipient is told of it, and those not told yet; or a silence
// asked for and not made yet (Silence; Text and Pending empty until it is).
type AlertAnswer struct {
	Key     string        `json:"key"`
	Text    string        `json:"text"`
	Pending []string      `json:"pending,omitempty"`
	Silence *AlertSilence `json:"silence,omitempty"`
}

// AlertSilence is a silence an answer asked for, kept before Alertmanager
// is asked, so that it is made and told after a crash too.
type AlertSilence struct {
	Labels map[string]string `json:"labels"`
	Dur    time.Duration     `json:"dur"`
	By     string            `json:"by"` // the destination JID who asked
	At     time.Time         `json:"at"` // when
}

// ErrCodeTaken is Open's error when another open group has the code.
var ErrCodeTaken = errors.New("mapping: alert code taken")

// Groups returns the open groups, oldest first.
func (h AlertTable) Groups(ctx context.Context) ([]AlertGroup, error) {
	gs, err := queryAll(ctx, h.s.query, scanAlertGroup, selectAlertGroups)
	return gs, unavailable(err)
}

func scanAlertGroup(r *sql.Rows, g *AlertGroup) error {
	var labels, recipients, answers string
	var ackedAt, since int64
	if err := r.Scan(&g.Key, &g.Code, &g.Route, &g.Subject, &labels, &g.Firing, &g.FullText, &g.SMSText,
		&recipients, &g.AckedBy, &ackedAt, &g.Steps, &since, &answers, &g.RouteID, &g.Base); err != nil {
		return err
	}
	if answers != "" {
		if err := json.Unmarshal([]byte(answers), &g.Answers); err != nil {
			return err
		}
	}
	if err := json.Unmarshal([]byte(labels), &g.Labels); err != nil {
		return err
	}
	if recipients != "" {
		g.Recipients = strings.Split(recipients, "\n")
	}
	if ackedAt != 0 {
		g.AckedAt = time.UnixMilli(ackedAt)
	}
	g.Since = time.UnixMilli(since)
	return nil
}

// Open stores a new group; ErrCodeTaken if its code is another's.
func (h AlertTable) Open(ctx context.Context, g AlertGroup) error {
	labels, _ := json.Marshal(g.Labels)
	s := h.s
	return s.txRefusable(ctx, func(tx *sqlTx, refuse func(error) error) error {
		var taken int
		if err := tx.QueryRowContext(ctx, countAlertCode, g.Code).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return refuse(ErrCodeTaken)
		}
		_, err := tx.ExecContext(ctx, insertAlertGroup, g.Key, g.Code, g.Route, g.Subject, string(labels), g.Firing,
			g.FullText, g.SMSText, strings.Join(g.Recipients, "\n"), g.AckedBy, millisOf(g.AckedAt), g.Steps,
			g.Since.UnixMilli(), answersOf(g), g.RouteID, g.Base, s.millis())
		return err
	})
}

// Save stores what changed in an open group: everything but its key, code
// and route index.
func (h AlertTable) Save(ctx context.Context, g AlertGroup) error {
	labels, _ := json.Marshal(g.Labels)
	s := h.s
	return s.tx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, updateAlertGroup, g.Subject, string(labels), g.Firing, g.FullText, g.SMSText,
			strings.Join(g.Recipients, "\n"), g.AckedBy, millisOf(g.AckedAt), g.Steps, g.Since.UnixMilli(), answersOf(g), g.RouteID, g.Base, s.millis(), g.Key)
		return err
	})
}

// alertClosedKept is how long a closed group is kept for Closed: longer
// than Alertmanager retries one notification, and than the windows in
// which the queues know its notices' ids (10 minutes).
const alertClosedKept = 20 * time.Minute

// Close forgets a resolved group; its code is free again, and its
// notifications are kept with no code (NoteCode: "", true) until Prune, so
// that a reply to one is known to be about a closed group. Its key, code,
// route and recipients are kept for alertClosedKept (Closed); those
// closed before that are forgotten.
func (h AlertTable) Close(ctx context.Context, key string) error {
	s := h.s
	return s.tx(ctx, func(tx *sqlTx) error {
		now := s.millis()
		if _, err := tx.ExecContext(ctx, pruneClosedGroups, now-alertClosedKept.Milliseconds()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, keepClosedGroup, now, key); err != nil {
			return err
		}
		codes, err := queryAll(ctx, tx.QueryContext, scanValue[string], deleteAlertGroup, key)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, closeAlertNotes, s.millis(), c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Closed returns the groups closed in the last alertClosedKept, the last
// closed first, with their key, code, route, route identity, base and
// recipients (Firing ""): a resolution that finds no open group may be
// Alertmanager's retry of the one that closed one of them.
func (h AlertTable) Closed(ctx context.Context) ([]AlertGroup, error) {
	s := h.s
	gs, err := queryAll(ctx, s.query, func(r *sql.Rows, g *AlertGroup) error {
		var recipients string
		if err := r.Scan(&g.Key, &g.Code, &g.Route, &g.RouteID, &g.Base, &recipients); err != nil {
			return err
		}
		if recipients != "" {
			g.Recipients = strings.Split(recipients, "\n")
		}
		return nil
	}, selectClosedGroups, s.millis()-alertClosedKept.Milliseconds())
	return gs, unavailable(err)
}

// Note records that the notification with stanza id id was for the group
// with code.
func (h AlertTable) Note(ctx context.Context, id, code string) error {
	s := h.s
	return s.tx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, insertAlertNote, id, code, s.millis())
		return err
	})
}

// NoteCode returns the code of the group the notification id was for, if
// it is open; "" and true if that group is closed.
func (h AlertTable) NoteCode(ctx context.Context, id string) (string, bool, error) {
	var code string
	err := h.s.queryRow(ctx, selectAlertNote, id).Scan(&code)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable(err)
	}
	return code, true, nil
}

// answersOf is g's answers as stored: JSON, or "" for none.
func answersOf(g AlertGroup) string {
	if len(g.Answers) == 0 {
		return ""
	}
	b, _ := json.Marshal(g.Answers)
	return string(b)
}

// millisOf is t in unix milliseconds, 0 for the zero time.
func millisOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
