package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"xmppgw/mapping"
)

// Book keeps the open alert groups and their notifications.
// mapping.AlertTable implements it; see it for each method's contract.
type Book interface {
	Groups(ctx context.Context) ([]mapping.AlertGroup, error)
	Open(ctx context.Context, g mapping.AlertGroup) error
	Save(ctx context.Context, g mapping.AlertGroup) error
	Close(ctx context.Context, key string) error
	Closed(ctx context.Context) ([]mapping.AlertGroup, error)
	Note(ctx context.Context, id, code string) error
	NoteCode(ctx context.Context, id string) (string, bool, error)
}

// Desk keeps the open alert groups: it gives each a code, takes the
// recipients' answers (Answer) and escalates the groups nobody
// acknowledges (Run). Its methods are safe for concurrent use; they run
// one at a time.
type Desk struct {
	mu       sync.Mutex
	book     Book
	q        Queue
	routes   []route
	silencer Silencer // nil: silence is off
	log      *slog.Logger
	now      func() time.Time
	label    func(jid string) string // names a recipient for everyone
	refused  map[string]bool         // what was logged once: a rate cap's refusals, routes gone
	retry    map[string]backoff      // when to try again what a rate cap refused: steps, notices
	// silences being made (group key, answer key), outside the lock
	silencing map[string]bool
}

// A step's page or a notice that a rate cap refused is tried again after
// retryFirst, then twice as long each time, up to retryMax.
const (
	retryFirst = 30 * time.Second
	retryMax   = 5 * time.Minute
)

// backoff is when to try a refused delivery again (at), and how long the
// last wait was.
type backoff struct {
	at   time.Time
	wait time.Duration
}

// due reports whether what k names may be tried at now.
func (d *Desk) due(k string, now time.Time) bool {
	b, ok := d.retry[k]
	return !ok || !now.Before(b.at)
}

// backOff has what k names, refused at now, wait before it is tried again.
func (d *Desk) backOff(k string, now time.Time) {
	if d.retry == nil {
		d.retry = map[string]backoff{}
	}
	b := d.retry[k]
	b.wait = min(max(2*b.wait, retryFirst), retryMax)
	b.at = now.Add(b.wait)
	d.retry[k] = b
}

// groupBase is the key of n's group, whatever the route.
func groupBase(n *Notification) string { return hashID("group", n.Receiver, n.GroupKey) }

// load returns the open groups. A group opened before routes had
// identities (RouteID "") is given that of the route at its index, while
// there is one (as it was found before), and, if n is its notification's,
// its base: the next Save stores them. given reports which were given a
// route's identity.
func (d *Desk) load(ctx context.Context, n *Notification) (groups []mapping.AlertGroup, given []bool, err error) {
	groups, err = d.book.Groups(ctx)
	if err != nil {
		return nil, nil, err
	}
	given = make([]bool, len(groups))
	for i := range groups {
		x := &groups[i]
		if x.RouteID == "" {
			switch {
			case x.Route == -1:
				x.RouteID = "explicit"
			case x.Route >= 0 && x.Route < len(d.routes):
				x.RouteID = d.routes[x.Route].id
			}
			given[i] = x.RouteID != ""
		}
		if x.Base == "" && n != nil && x.Key == hashID("group", n.Receiver, n.GroupKey, strconv.Itoa(x.Route)) {
			x.Base = groupBase(n)
		}
	}
	return groups, given, nil
}

// fpSet is a set of fingerprints (see fingerprints).
func fpSet(fps string) map[string]bool {
	out := map[string]bool{}
	if fps != "" {
		for _, fp := range strings.Split(fps, ",") {
			out[fp] = true
		}
	}
	return out
}

// takes reports whether the route with identity id is the first to match
// one of n's firing alerts, or of its resolved ones too if resolved.
func (d *Desk) takes(id string, n *Notification, resolved bool) bool {
	ri := d.route(id)
	if ri < 0 {
		return false
	}
	for _, a := range n.Alerts {
		if a.Status == Resolved && !resolved {
			continue
		}
		if j := slices.IndexFunc(d.routes, func(r route) bool { return r.matches(a.Labels) }); j == ri {
			return true
		}
	}
	return false
}

// findFiring is the index in groups of the open group of route rid's
// share of n's group (base), firing alerts firing, or -1. If there is
// none, it adopts (and logs) an open group of base that a route edit
// stranded: one whose route (if still in the config) takes none of n's
// firing alerts and that shares alerts with this share, the most if
// several do. A group sharing none is left to its resolution.
func (d *Desk) findFiring(groups []mapping.AlertGroup, n *Notification, base, rid string, firing []Alert) int {
	if i := slices.IndexFunc(groups, func(x mapping.AlertGroup) bool { return x.Base == base && x.RouteID == rid }); i >= 0 {
		return i
	}
	if rid == "explicit" {
		return -1
	}
	share := fpSet(fingerprints(firing))
	pick, best := -1, 0
	for i, x := range groups {
		if x.Base != base || x.RouteID == "explicit" || x.Firing == "" || d.takes(x.RouteID, n, false) {
			continue
		}
		overlap := 0
		for fp := range fpSet(x.Firing) {
			if share[fp] {
				overlap++
			}
		}
		if overlap > best {
			pick, best = i, overlap
		}
	}
	if pick < 0 {
		return -1
	}
	d.log.Info("an open alert group's route no longer takes its alerts; the group is taken by the route that does", "code", groups[pick].Code)
	groups[pick].Base, groups[pick].RouteID = base, rid
	return pick
}

// resolving is the indexes in groups of the open groups that route rid's
// share of n's group (base), alerts all resolved, resolves: its own (base
// and rid), and any other of base, whatever its route, whose firing alerts
// n all resolves, some of them in this share (a route edit moved them),
// unless its route takes one of n's firing alerts (it fires on, and that
// share updates it); and, for a retry, any other of base resolved but kept
// open (Firing ""), unless its route takes one of n's alerts.
func (d *Desk) resolving(groups []mapping.AlertGroup, n *Notification, base, rid string, alerts []Alert) []int {
	resolved := map[string]bool{}
	for _, a := range n.Alerts {
		if a.Status == Resolved {
			resolved[fingerprint(a)] = true
		}
	}
	share := fpSet(fingerprints(alerts))
	var out []int
	for i, x := range groups {
		if x.Base != base {
			continue
		}
		if x.RouteID == rid {
			out = append(out, i)
			continue
		}
		if rid == "explicit" || x.RouteID == "explicit" {
			continue
		}
		if x.Firing == "" {
			// Resolved, and kept open until everyone is told (a retry):
			// its route's share, if n has one, closes it.
			if !d.takes(x.RouteID, n, true) {
				out = append(out, i)
			}
			continue
		}
		if d.takes(x.RouteID, n, false) {
			continue
		}
		all, some := true, false
		for fp := range fpSet(x.Firing) {
			all = all && resolved[fp]
			some = some || share[fp]
		}
		if all && some {
			out = append(out, i)
		}
	}
	return out
}

// route is the index of the route with identity id, or -1.
func (d *Desk) route(id string) int {
	return slices.IndexFunc(d.routes, func(r route) bool { return r.id == id })
}

// notify turns one route's share g of n into deliveries and keeps the
// group's state: a firing group is opened with a new code, or updated; a
// group acknowledged and unchanged is not notified again (suppressed); a
// resolved group is saved as such (no longer escalated) and notified to
// every recipient, and done closes it once the caller has queued them all
// (a retry after a failure or a refusal still finds its recipients).
func (d *Desk) notify(ctx context.Context, n *Notification, g group) (out []delivery, suppressed bool, done func(ctx context.Context, stored bool) error, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	base, rid := groupBase(n), "explicit"
	if g.route >= 0 {
		rid = d.routes[g.route].id
	}
	groups, _, err := d.load(ctx, n)
	if err != nil {
		return nil, false, nil, err
	}
	var firing []Alert
	for _, a := range g.alerts {
		if a.Status != Resolved {
			firing = append(firing, a)
		}
	}
	t := Render(n, g.alerts)
	if len(firing) == 0 {
		return d.resolve(ctx, n, g, groups, base, rid, t)
	}
	i := d.findFiring(groups, n, base, rid, firing)
	fps := fingerprints(firing)
	now := d.now()
	var cur mapping.AlertGroup
	if i >= 0 {
		cur = groups[i]
		if cur.Firing == fps && cur.AckedBy != "" {
			// Acknowledged, unchanged: no repeats. Saved all the same, so
			// that the store knows the group still fires (see Prune).
			return nil, true, nil, d.book.Save(ctx, cur)
		}
		if cur.AckedBy != "" && newlyFiring(cur.Firing, fps) {
			// A new alert firing needs a new acknowledgement, and escalates
			// anew; one resolving does not.
			cur.AckedBy, cur.AckedAt, cur.Steps, cur.Since = "", time.Time{}, 0, now
		}
	} else {
		taken := map[string]bool{}
		for _, x := range groups {
			taken[x.Code] = true
		}
		// A key of its own: a group another route adopted (findFiring) or
		// resolved keeps the key it was opened with.
		key := hashID("group", base, rid, simpleID("", ""))
		cur = mapping.AlertGroup{Key: key, Code: newCode(taken), Route: g.route, RouteID: rid, Base: base, Since: now}
	}
	for _, dest := range g.dests {
		if !slices.Contains(cur.Recipients, dest.JID) {
			cur.Recipients = append(cur.Recipients, dest.JID)
		}
	}
	cur.Subject = subjectOf(n, g.alerts, common(g.alerts, "alertname"))
	var match map[string]string
	if g.route >= 0 {
		match = d.routes[g.route].Match
	}
	cur.Labels = silenceLabels(n, g.alerts, match)
	cur.Firing = fps
	cur.FullText, cur.SMSText = coded(t, cur.Code, true)
	if i >= 0 {
		err = d.book.Save(ctx, cur)
	} else {
		err = d.book.Open(ctx, cur)
	}
	if err != nil {
		return nil, false, nil, err
	}
	out = d.deliveries(cur.Recipients, cur.FullText, cur.SMSText, func(dest string) string { return notificationID(n, cur.Key, g.alerts, dest) })
	for _, o := range out {
		if err := d.book.Note(ctx, o.id, cur.Code); err != nil {
			return nil, false, nil, err
		}
	}
	return out, false, nil, nil
}

// resolve is notify for a share g of n whose alerts all resolved: the
// groups it resolves (see resolving) are saved as resolved (no longer
// escalated), with their routes (another route's share does not reuse
// them while they are kept open), and notified to every recipient; done
// closes them once the caller has queued them all.
// A share of no open group may be Alertmanager's retry of the resolution
// that closed one (see retried); else it is delivered as it comes.
func (d *Desk) resolve(ctx context.Context, n *Notification, g group, groups []mapping.AlertGroup, base, rid string, t Text) (out []delivery, suppressed bool, done func(ctx context.Context, stored bool) error, err error) {
	targets := d.resolving(groups, n, base, rid, g.alerts)
	if len(targets) == 0 {
		out, ok, err := d.retried(ctx, n, g, base, rid, t)
		if err != nil || ok {
			return out, false, nil, err
		}
		return textDeliveries(g.dests, t, func(dest string) string { return notificationID(n, "", g.alerts, dest) }), false, nil, nil
	}
	var closers []func(ctx context.Context) error
	for _, i := range targets {
		cur := groups[i]
		own := cur.RouteID == rid
		if cur.Firing != "" || cur.Base != base {
			if !own {
				d.log.Info("an open alert group resolved by another route's share (a route edit moved its alerts)", "code", cur.Code)
			}
			cur.Firing, cur.Base = "", base // resolved: Escalate leaves it be
			if err := d.book.Save(ctx, cur); err != nil {
				return nil, false, nil, err
			}
		}
		id := func(dest string) string { return notificationID(n, cur.Key, g.alerts, dest) }
		full, sms := coded(t, cur.Code, false)
		out = append(out, d.deliveries(cur.Recipients, full, sms, id)...)
		closers = append(closers, func(ctx context.Context) error {
			return d.closeResolved(ctx, cur.Key, cur.Recipients, full, sms, id)
		})
	}
	return out, false, func(ctx context.Context, stored bool) error {
		if !stored {
			return nil // kept open: the retry reaches every recipient
		}
		var limited error
		for _, c := range closers {
			switch err := c(ctx); {
			case errors.Is(err, ErrLimited):
				limited = err
			case err != nil:
				return err
			}
		}
		return limited
	}, nil
}

// retried is resolve for a share g of n that resolves no open group, if
// it resolves a group closed lately (Book.Closed, kept 20 minutes): the
// share is Alertmanager's retry of the resolution that closed it (its
// answer lost, or too slow), and is delivered as that one was, to the
// group's recipients, with its ids and texts (its code), so that the
// queues take it for a retry. Of the groups it resolves, the last closed
// of each route is taken (the latest episode of a flapping alert).
func (d *Desk) retried(ctx context.Context, n *Notification, g group, base, rid string, t Text) (out []delivery, ok bool, err error) {
	closed, err := d.book.Closed(ctx)
	if err != nil {
		return nil, false, err
	}
	routes := map[string]bool{}
	for _, i := range d.resolving(closed, n, base, rid, g.alerts) {
		cur := closed[i] // the last closed first
		if routes[cur.RouteID] {
			continue
		}
		routes[cur.RouteID] = true
		full, sms := coded(t, cur.Code, false)
		out = append(out, d.deliveries(cur.Recipients, full, sms, func(dest string) string { return notificationID(n, cur.Key, g.alerts, dest) })...)
	}
	return out, len(routes) > 0, nil
}

// deliveries is full (sms for a phone) for each recipient JID; a recipient
// that no longer resolves (the config changed) is logged and left out.
func (d *Desk) deliveries(recipients []string, full, sms string, id func(dest string) string) []delivery {
	var out []delivery
	for _, r := range recipients {
		dest, err := d.q.Resolve(r)
		if err != nil {
			d.log.Warn("an alert's recipient no longer resolves; left out", "to", r, "err", err)
			continue
		}
		text := full
		if dest.Kind == SMS {
			text = sms
		}
		out = append(out, delivery{dest: dest, id: id(dest.JID), text: text})
	}
	return out
}

// closeResolved closes the resolved group key once its notices are
// queued for told, under the lock: a recipient added since is told first,
// and a group firing again is left open.
func (d *Desk) closeResolved(ctx context.Context, key string, told []string, full, sms string, id func(dest string) string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	groups, _, err := d.load(ctx, nil)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(groups, func(x mapping.AlertGroup) bool { return x.Key == key })
	if i < 0 || groups[i].Firing != "" {
		return nil // closed by a retry, or firing again
	}
	var late []string
	for _, r := range groups[i].Recipients {
		if !slices.Contains(told, r) {
			late = append(late, r)
		}
	}
	refused, err := d.queue(ctx, d.deliveries(late, full, sms, id))
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		return fmt.Errorf("#%s stays open until every recipient is told it resolved: %w", groups[i].Code, ErrLimited)
	}
	if err := d.book.Close(ctx, key); err != nil {
		return err
	}
	for k := range d.refused {
		if strings.HasPrefix(k, key+"\x00") {
			delete(d.refused, k)
		}
	}
	for k := range d.retry {
		if strings.HasPrefix(k, key+"\x00") {
			delete(d.retry, k)
		}
	}
	return nil
}

// warnRefused logs each of refused, what's deliveries a rate cap refused.
func (d *Desk) warnRefused(what string, refused []delivery) {
	for _, x := range refused {
		d.log.Warn(what+" refused over a rate limit", "to", x.dest.JID, "id", x.id)
	}
}

// queue queues deliveries, and returns those a rate cap refused; any other
// error stops it.
func (d *Desk) queue(ctx context.Context, ds []delivery) (refused []delivery, err error) {
	for _, x := range ds {
		if _, err := d.q.Queue(ctx, x.dest, x.id, x.text); err != nil {
			if errors.Is(err, ErrLimited) {
				refused = append(refused, x)
				continue
			}
			return refused, err
		}
	}
	return refused, nil
}

// coded is t with its code on the first line: the whole text, with how to
// answer if it fires, and one SMS, with the answer too if it fits.
func coded(t Text, code string, firing bool) (full, sms string) {
	t.lines = slices.Clone(t.lines)
	if len(t.lines) > 0 {
		t.lines[0].s = "#" + code + " " + t.lines[0].s
	}
	full, sms = t.Full(), t.SMS()
	if firing {
		full += "\nReply \"ack " + code + "\" to acknowledge."
		if hint := "\nReply: ack " + code; OneSMS(sms + hint) {
			sms += hint
		}
	}
	return full, sms
}

// fingerprints identifies a set of alerts: their fingerprints, sorted.
func fingerprints(alerts []Alert) string {
	fps := make([]string, len(alerts))
	for i, a := range alerts {
		fps[i] = fingerprint(a)
	}
	slices.Sort(fps)
	return strings.Join(slices.Compact(fps), ",")
}

// newlyFiring reports whether the fingerprints now (see fingerprints)
// hold one that were did not.
func newlyFiring(were, now string) bool {
	old := strings.Split(were, ",")
	for _, fp := range strings.Split(now, ",") {
		if !slices.Contains(old, fp) {
			return true
		}
	}
	return false
}

// silenceLabels are the labels a silence of a share of n's group matches:
// those (name and value) all of its alerts have, which include the group's
// labels, and the route's match, empty values too (a label missing, which
// an Alertmanager matcher name="" matches too), so that it covers this
// share and not another route's; n's group labels if there are none.
func silenceLabels(n *Notification, alerts []Alert, match map[string]string) map[string]string {
	out := map[string]string{}
	if len(alerts) > 0 {
	next:
		for k, v := range alerts[0].Labels {
			if v == "" {
				continue
			}
			for _, a := range alerts[1:] {
				if a.Labels[k] != v {
					continue next
				}
			}
			out[k] = v
		}
	}
	maps.Copy(out, match)
	if len(out) == 0 {
		return maps.Clone(n.GroupLabels)
	}
	return out
}

// who names a recipient in what everyone is told: a phone by its number,
// anyone else by their JID.
func who(jid string) string {
	if local, _, ok := strings.Cut(jid, "@"); ok && strings.HasPrefix(local, "+") {
		return local
	}
	return jid
}
