package alerts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"xmppgw/mapping"
)

// An answer a recipient sends back: ack [CODE], unack CODE,
// silence CODE DURATION, status.
type answer struct {
	verb string // "ack", "unack", "silence", "status"
	code string // upper case, without '#'; "" for a bare ack
	dur  time.Duration
}

// MaxSilence is the longest silence an answer may ask for.
const MaxSilence = 30 * 24 * time.Hour

// parseAnswer reads text as an answer, case-insensitively. ok is false if
// it is not one; err says what is wrong with one that is ("silence K4"
// without a duration).
func parseAnswer(text string) (a answer, ok bool, err error) {
	f := strings.Fields(strings.ToLower(text))
	if len(f) == 0 {
		return answer{}, false, nil
	}
	code := func(s string) (string, bool) {
		s = strings.ToUpper(strings.TrimPrefix(s, "#"))
		if len(s) < MinCode || len(s) > MaxCode {
			return "", false
		}
		for _, r := range s {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return "", false
			}
		}
		return s, true
	}
	switch {
	case f[0] == "status" && len(f) == 1:
		return answer{verb: "status"}, true, nil
	case f[0] == "ack" && len(f) == 1:
		return answer{verb: "ack"}, true, nil
	case (f[0] == "ack" || f[0] == "unack") && len(f) == 2:
		c, ok := code(f[1])
		if !ok {
			return answer{}, false, nil
		}
		return answer{verb: f[0], code: c}, true, nil
	case f[0] == "silence" && (len(f) == 2 || len(f) == 3):
		c, ok := code(f[1])
		if !ok {
			return answer{}, false, nil
		}
		if len(f) == 2 {
			return answer{}, true, fmt.Errorf("say for how long: silence %s 2h", c)
		}
		d, err := parseDuration(f[2])
		if err != nil || d <= 0 || d > MaxSilence {
			return answer{}, true, fmt.Errorf("%q is not a duration up to 30d: silence %s 2h (or 30m, 1d)", f[2], c)
		}
		return answer{verb: "silence", code: c, dur: d}, true, nil
	}
	return answer{}, false, nil
}

// parseDuration is time.ParseDuration with days ("1d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if before, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(before)
		if err != nil || n < 0 || n > 366 {
			return 0, fmt.Errorf("%q: not a number of days", before)
		}
		days, s = time.Duration(n)*24*time.Hour, after
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}

// Answer takes text from from (a destination: a user's JID, or a
// transport's contact) as an answer to the alerts sent to it, if it is
// one, and answers back. replyTo is the stanza id of the message text
// replies to, or "". An answer from someone with no open alert is taken
// only if always is set (it was written to the gateway itself): handled
// then says that text was not for the alerts, and should be relayed as
// usual. A failure of the store is an error: the caller should have the
// answer sent again.
func (d *Desk) Answer(ctx context.Context, from, text, replyTo string, always bool) (handled bool, err error) {
	a, ok, perr := parseAnswer(text)
	if !ok {
		return false, nil
	}
	dest, err := d.q.Resolve(from)
	if err != nil {
		return false, nil // not a destination alerts could reach
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	groups, err := d.book.Groups(ctx)
	if err != nil {
		return false, err
	}
	var mine []mapping.AlertGroup
	for _, g := range groups {
		if slices.Contains(g.Recipients, dest.JID) {
			mine = append(mine, g)
		}
	}
	if len(mine) == 0 && !always {
		return false, nil
	}
	reply := func(s string) error {
		refused, err := d.queue(ctx, []delivery{{dest: dest, id: simpleID("", dest.JID), text: s}})
		if len(refused) > 0 {
			d.log.Warn("an answer to an alert's recipient refused over a rate limit", "to", dest.JID)
		}
		return err
	}
	if perr != nil {
		return true, reply(perr.Error())
	}
	if a.verb == "status" {
		return true, reply(d.status(mine))
	}
	g, msg, err := d.target(ctx, a, mine, replyTo)
	if err != nil {
		return true, err
	}
	if g == nil {
		return true, reply(msg)
	}
	now := d.now()
	switch a.verb {
	case "ack":
		if g.AckedBy != "" {
			return true, reply(fmt.Sprintf("#%s was already acknowledged by %s at %s.", g.Code, d.label(g.AckedBy), clock(g.AckedAt)))
		}
		g.AckedBy, g.AckedAt = dest.JID, now
		return true, d.tell(ctx, *g, "ack:"+dest.JID+":"+strconv.FormatInt(now.UnixMilli(), 10),
			fmt.Sprintf("#%s acknowledged by %s at %s.", g.Code, d.label(dest.JID), clock(now)))
	case "unack":
		if g.AckedBy == "" {
			return true, reply(fmt.Sprintf("#%s is not acknowledged.", g.Code))
		}
		g.AckedBy, g.AckedAt = "", time.Time{}
		return true, d.tell(ctx, *g, "unack:"+dest.JID+":"+strconv.FormatInt(now.UnixMilli(), 10),
			fmt.Sprintf("#%s is no longer acknowledged (%s took it back): escalation resumes.", g.Code, d.label(dest.JID)))
	case "silence":
		if d.silencer == nil {
			return true, reply("Silences are off: the gateway has no alerts.alertmanager_url.")
		}
		// Created by the replier's number or JID; the comment names them as
		// everyone is told.
		id, err := d.silencer.Silence(ctx, g.Labels, a.dur, who(dest.JID), "silenced from xmppgw by "+d.label(dest.JID)+" (#"+g.Code+")")
		if err != nil {
			d.log.Warn("an alert group could not be silenced", "group", g.Code, "err", err, "cause", errors.Unwrap(err))
			return true, reply(fmt.Sprintf("#%s is not silenced: %v", g.Code, err))
		}
		return true, d.tell(ctx, *g, "silence:"+id,
			fmt.Sprintf("#%s silenced for %s by %s (Alertmanager silence %s).", g.Code, a.dur, d.label(dest.JID), id))
	}
	return true, nil
}

// target finds the group a (not status) is about among mine: its code,
// the notification replyTo answers (and no other), or the one
// unacknowledged group. If there is none, msg says why, listing mine's
// codes.
func (d *Desk) target(ctx context.Context, a answer, mine []mapping.AlertGroup, replyTo string) (*mapping.AlertGroup, string, error) {
	codes := func() string {
		if len(mine) == 0 {
			return "You have no open alerts."
		}
		var cs []string
		for _, g := range mine {
			cs = append(cs, "#"+g.Code)
		}
		return "Your open alerts: " + strings.Join(cs, ", ") + "."
	}
	find := func(code string) *mapping.AlertGroup {
		for i := range mine {
			if mine[i].Code == code {
				return &mine[i]
			}
		}
		return nil
	}
	if a.code != "" {
		if g := find(a.code); g != nil {
			return g, "", nil
		}
		return nil, "No open alert #" + a.code + " was sent to you. " + codes(), nil
	}
	if replyTo != "" {
		// A reply names its alert: never another.
		code, ok, err := d.book.NoteCode(ctx, replyTo)
		switch {
		case err != nil:
			return nil, "", err
		case ok && code == "":
			return nil, "The alert you replied to has resolved. " + codes(), nil
		}
		if g := find(code); ok && g != nil {
			return g, "", nil
		}
		return nil, "The message you replied to is not an open alert of yours. " + codes(), nil
	}
	var open []*mapping.AlertGroup
	for i := range mine {
		if mine[i].AckedBy == "" {
			open = append(open, &mine[i])
		}
	}
	if len(open) == 1 {
		return open[0], "", nil
	}
	if len(mine) == 0 {
		return nil, codes(), nil
	}
	if len(open) == 0 {
		return nil, "Every alert of yours is acknowledged. " + codes(), nil
	}
	return nil, "Which one? Answer ack CODE. " + codes(), nil
}

// tell saves g and tells every recipient text, once: event names what
// happened, so that an answer taken twice tells them once.
func (d *Desk) tell(ctx context.Context, g mapping.AlertGroup, event, text string) error {
	out := d.deliveries(g.Recipients, text, text, func(dest string) string { return hashID("tell", g.Key, event, dest) })
	refused, err := d.queue(ctx, out)
	if err != nil {
		return err
	}
	d.warnRefused("an alert's notice", refused)
	return d.book.Save(ctx, g)
}

// status lists groups, for the status answer.
func (d *Desk) status(groups []mapping.AlertGroup) string {
	if len(groups) == 0 {
		return "You have no open alerts."
	}
	var b strings.Builder
	b.WriteString("Open alerts:")
	for _, g := range groups {
		fmt.Fprintf(&b, "\n#%s %s: ", g.Code, g.Subject)
		if g.AckedBy == "" {
			b.WriteString("not acknowledged")
		} else {
			fmt.Fprintf(&b, "acknowledged by %s at %s", d.label(g.AckedBy), clock(g.AckedAt))
		}
	}
	return b.String()
}

// clock is t as the time of day, in UTC.
func clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }
