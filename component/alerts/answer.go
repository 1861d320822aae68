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
// replies to, or "". key names the event text came in (a provider's event,
// an XMPP stanza), "" if none: an answer delivered again with the same key
// is acted on once, and its notices are sent once. An answer from someone
// with no open alert is taken only if always is set (it was written to
// the gateway itself): handled then says that text was not for the
// alerts, and should be relayed as usual. A failure of the store is an
// error: the caller should have the answer sent again.
func (d *Desk) Answer(ctx context.Context, from, text, replyTo, key string, always bool) (handled bool, err error) {
	a, ok, perr := parseAnswer(text)
	if !ok {
		return false, nil
	}
	dest, err := d.q.Resolve(from)
	if err != nil {
		return false, nil // not a destination alerts could reach
	}
	if key == "" {
		key = simpleID("", "") // nothing to know it again by
	}
	d.mu.Lock()
	handled, ps, err := d.answer(ctx, dest, a, perr, replyTo, key, always)
	d.mu.Unlock()
	if ps == nil || err != nil {
		return handled, err
	}
	return true, d.silence(ctx, *ps, false)
}

// pendingSilence is a silence recorded in group g (Answers, by key) and
// not made yet.
type pendingSilence struct {
	g   mapping.AlertGroup
	key string
	s   mapping.AlertSilence
}

// errSilencesOff is why a silence is not made without a Silencer.
var errSilencesOff = errors.New("silences are off: the gateway has no alerts.alertmanager_url")

// silence makes ps in Alertmanager, outside the lock, so that a slow one
// holds up nothing else (ps is marked in flight until it is done), and
// tells everyone; or tells the one who asked why not (with no Silencer:
// silences are off, ps is dropped). The answer's key in
// the silence's comment has a second call for the same answer find the
// first's silence. retry (Escalate, after a crash) keeps ps pending if
// Alertmanager cannot be reached, for a later run, for an hour.
func (d *Desk) silence(ctx context.Context, ps pendingSilence, retry bool) error {
	id, serr := "", errSilencesOff // recorded before a restart without alertmanager_url: dropped
	if d.silencer != nil {
		id, serr = d.silencer.Silence(ctx, ps.s.Labels, ps.s.Dur, who(ps.s.By), "silenced from xmppgw by "+d.label(ps.s.By)+" (#"+ps.g.Code+")", ps.key)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.silencing, ps.g.Key+"\x00"+ps.key)
	var unreachable *unreachable
	if retry && errors.As(serr, &unreachable) && d.now().Sub(ps.s.At) < time.Hour {
		d.log.Warn("a silence asked for before a restart cannot be made yet; trying again", "group", ps.g.Code, "err", serr, "cause", errors.Unwrap(serr))
		d.backOff(ps.g.Key+"\x00"+ps.key, d.now())
		return nil
	}
	return d.silenced(ctx, ps, id, serr)
}

// answer is Answer under the lock. It acts on every answer but a silence,
// which it records in its group, pending, before it returns it to make:
// a crash before it is made and told leaves it for Escalate.
func (d *Desk) answer(ctx context.Context, dest Destination, a answer, perr error, replyTo, key string, always bool) (handled bool, silence *pendingSilence, err error) {
	groups, _, err := d.load(ctx, nil)
	if err != nil {
		return false, nil, err
	}
	var mine []mapping.AlertGroup
	for _, g := range groups {
		if slices.Contains(g.Recipients, dest.JID) {
			mine = append(mine, g)
		}
	}
	if len(mine) == 0 && !always {
		return false, nil, nil
	}
	for i := range mine {
		if j := answered(mine[i], key); j >= 0 {
			if s := mine[i].Answers[j].Silence; s != nil {
				if d.silencing[mine[i].Key+"\x00"+key] {
					return true, nil, nil // being made
				}
				// Recorded, and not made: a crash came between.
				d.silencing[mine[i].Key+"\x00"+key] = true
				return true, &pendingSilence{g: mine[i], key: key, s: *s}, nil
			}
			d.log.Info("an answer to an alert delivered again; acted on already", "code", mine[i].Code, "from", dest.JID)
			return true, nil, d.tell(ctx, &mine[i], j)
		}
	}
	reply := func(s string) error { return d.reply(ctx, dest, s) }
	if perr != nil {
		return true, nil, reply(perr.Error())
	}
	if a.verb == "status" {
		return true, nil, reply(d.status(mine))
	}
	g, msg, err := d.target(ctx, a, mine, replyTo)
	if err != nil {
		return true, nil, err
	}
	if g == nil {
		return true, nil, reply(msg)
	}
	now := d.now()
	switch a.verb {
	case "ack":
		if g.AckedBy != "" {
			return true, nil, reply(fmt.Sprintf("#%s was already acknowledged by %s at %s.", g.Code, d.label(g.AckedBy), clock(g.AckedAt)))
		}
		g.AckedBy, g.AckedAt = dest.JID, now
		return true, nil, d.record(ctx, *g, key, fmt.Sprintf("#%s acknowledged by %s at %s.", g.Code, d.label(dest.JID), clock(now)))
	case "unack":
		if g.AckedBy == "" {
			return true, nil, reply(fmt.Sprintf("#%s is not acknowledged.", g.Code))
		}
		g.AckedBy, g.AckedAt = "", time.Time{}
		return true, nil, d.record(ctx, *g, key, fmt.Sprintf("#%s is no longer acknowledged (%s took it back): escalation resumes.", g.Code, d.label(dest.JID)))
	case "silence":
		if d.silencer == nil {
			return true, nil, reply("Silences are off: the gateway has no alerts.alertmanager_url.")
		}
		ps := pendingSilence{key: key, s: mapping.AlertSilence{Labels: g.Labels, Dur: a.dur, By: dest.JID, At: now}}
		g.Answers = addAnswer(g.Answers, mapping.AlertAnswer{Key: key, Silence: &ps.s})
		if err := d.book.Save(ctx, *g); err != nil {
			return true, nil, err
		}
		ps.g = *g
		d.silencing[g.Key+"\x00"+key] = true
		return true, &ps, nil
	}
	return true, nil, nil
}

// silenced finishes ps, which Alertmanager made as id, or refused with
// serr: its group is looked up again, as it may have changed or closed
// meanwhile, and the pending silence is replaced by what everyone is told,
// or dropped (the one who asked is told why).
func (d *Desk) silenced(ctx context.Context, ps pendingSilence, id string, serr error) error {
	dest, err := d.q.Resolve(ps.s.By)
	if err != nil {
		d.log.Warn("who asked for a silence no longer resolves", "to", ps.s.By, "err", err)
		dest = Destination{JID: ps.s.By}
	}
	groups, _, err := d.load(ctx, nil)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(groups, func(x mapping.AlertGroup) bool { return x.Key == ps.g.Key })
	j := -1
	if i >= 0 {
		j = answered(groups[i], ps.key)
		if j >= 0 && groups[i].Answers[j].Silence == nil {
			return d.tell(ctx, &groups[i], j) // a delivery of the same answer was first
		}
		if j >= 0 {
			groups[i].Answers = slices.Delete(slices.Clone(groups[i].Answers), j, j+1)
		}
	}
	if serr != nil {
		d.log.Warn("an alert group could not be silenced", "group", ps.g.Code, "err", serr, "cause", errors.Unwrap(serr))
		if j >= 0 {
			if err := d.book.Save(ctx, groups[i]); err != nil {
				return err
			}
		}
		return d.reply(ctx, dest, fmt.Sprintf("#%s is not silenced: %v", ps.g.Code, serr))
	}
	text := fmt.Sprintf("#%s silenced for %s by %s (Alertmanager silence %s).", ps.g.Code, ps.s.Dur, d.label(ps.s.By), id)
	if i < 0 {
		return d.reply(ctx, dest, text+" It has resolved meanwhile.")
	}
	return d.record(ctx, groups[i], ps.key, text)
}

// pendingSilences is the first of the silences recorded in groups and not
// made, nor being made, whose backoff (after Alertmanager could not be
// reached) has passed, marked in flight; one a run of Escalate, so that
// an Alertmanager slow to answer holds up no run (and its pages) for
// longer than one try.
func (d *Desk) pendingSilences(groups []mapping.AlertGroup, now time.Time) []pendingSilence {
	for _, g := range groups {
		for _, an := range g.Answers {
			k := g.Key + "\x00" + an.Key
			if an.Silence == nil || d.silencing[k] || !d.due(k, now) {
				continue
			}
			d.silencing[k] = true
			return []pendingSilence{{g: g, key: an.Key, s: *an.Silence}}
		}
	}
	return nil
}

// reply sends s to dest alone.
func (d *Desk) reply(ctx context.Context, dest Destination, s string) error {
	refused, err := d.queue(ctx, []delivery{{dest: dest, id: simpleID("", dest.JID), text: s}})
	d.warnRefused("an answer to an alert's recipient", refused)
	return err
}

// target finds the group a (not status) is about among mine: its code,
// the notification replyTo answers (and no other), or the one
// unacknowledged group. If there is none, msg says why, listing mine's
// codes.
func (d *Desk) target(ctx context.Context, a answer, mine []mapping.AlertGroup, replyTo string) (*mapping.AlertGroup, string, error) {
	// A group resolved but kept open until everyone is told (a rate cap
	// refused some) is no longer one to answer.
	var live []*mapping.AlertGroup
	for i := range mine {
		if mine[i].Firing != "" {
			live = append(live, &mine[i])
		}
	}
	codes := func() string {
		if len(live) == 0 {
			return "You have no open alerts."
		}
		var cs []string
		for _, g := range live {
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
		if g := find(a.code); g != nil && g.Firing == "" {
			return nil, "#" + g.Code + " has resolved. " + codes(), nil
		} else if g != nil {
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
		case ok && code == "", ok && find(code) != nil && find(code).Firing == "":
			return nil, "The alert you replied to has resolved. " + codes(), nil
		}
		if g := find(code); ok && g != nil {
			return g, "", nil
		}
		return nil, "The message you replied to is not an open alert of yours. " + codes(), nil
	}
	var open []*mapping.AlertGroup
	for _, g := range live {
		if g.AckedBy == "" {
			open = append(open, g)
		}
	}
	if len(open) == 1 {
		return open[0], "", nil
	}
	if len(live) == 0 {
		return nil, codes(), nil
	}
	if len(open) == 0 {
		return nil, "Every alert of yours is acknowledged. " + codes(), nil
	}
	return nil, "Which one? Answer ack CODE. " + codes(), nil
}

// maxAnswers is how many answers a group remembers (Answers): more, and
// the oldest are forgotten, those told to everyone first.
const maxAnswers = 16

// answered is the index of the answer with key in g.Answers, or -1.
func answered(g mapping.AlertGroup, key string) int {
	return slices.IndexFunc(g.Answers, func(x mapping.AlertAnswer) bool { return x.Key == key })
}

// record saves g, changed by the answer key, with that answer and text,
// what every recipient is told of it; then tells them. Saved first, the
// answer is acted on once: a delivery of it again only finishes telling.
func (d *Desk) record(ctx context.Context, g mapping.AlertGroup, key, text string) error {
	g.Answers = addAnswer(g.Answers, mapping.AlertAnswer{Key: key, Text: text, Pending: slices.Clone(g.Recipients)})
	if err := d.book.Save(ctx, g); err != nil {
		return err
	}
	return d.tell(ctx, &g, len(g.Answers)-1)
}

// addAnswer is answers with an added, bounded (maxAnswers). A recipient
// an earlier notice still waits for (a rate cap refused it) is told only
// an's: the later state is what matters.
func addAnswer(answers []mapping.AlertAnswer, an mapping.AlertAnswer) []mapping.AlertAnswer {
	answers = slices.Clone(answers)
	for i := range answers {
		answers[i].Pending = slices.DeleteFunc(slices.Clone(answers[i].Pending), func(r string) bool { return slices.Contains(an.Pending, r) })
	}
	answers = append(answers, an)
	for len(answers) > maxAnswers {
		i := slices.IndexFunc(answers, func(x mapping.AlertAnswer) bool { return len(x.Pending) == 0 && x.Silence == nil })
		if i < 0 {
			i = 0
		}
		answers = slices.Delete(answers, i, i+1)
	}
	return answers
}

// tell sends g's answer i to the recipients not told yet, under ids of the
// answer's key, so that the queue takes each once. Those a rate cap
// refuses stay pending, for a later run of Escalate once their backoff
// has passed (see backOff); g is saved if that changed.
func (d *Desk) tell(ctx context.Context, g *mapping.AlertGroup, i int) error {
	an := &g.Answers[i]
	if len(an.Pending) == 0 {
		return nil
	}
	out := d.deliveries(an.Pending, an.Text, an.Text, func(dest string) string { return hashID("tell", g.Key, an.Key, dest) })
	refused, err := d.queue(ctx, out)
	if err != nil {
		return err
	}
	var pending []string
	for _, x := range refused {
		pending = append(pending, x.dest.JID)
		if k := g.Key + "\x00" + an.Key + "\x00" + x.dest.JID; !d.refused[k] {
			d.refused[k] = true
			d.log.Warn("an alert's notice refused over a rate limit; trying again", "code", g.Code, "to", x.dest.JID)
		}
	}
	if len(pending) > 0 {
		d.backOff(g.Key+"\x00"+an.Key, d.now())
	} else {
		delete(d.retry, g.Key+"\x00"+an.Key)
	}
	if slices.Equal(pending, an.Pending) {
		return nil
	}
	an.Pending = pending
	return d.book.Save(ctx, *g)
}

// status lists groups, for the status answer: those still firing (a
// group resolved but kept open until everyone is told is not).
func (d *Desk) status(all []mapping.AlertGroup) string {
	var groups []mapping.AlertGroup
	for _, g := range all {
		if g.Firing != "" {
			groups = append(groups, g)
		}
	}
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
