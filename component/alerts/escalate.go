package alerts

import (
	"context"
	"slices"
	"strconv"
	"time"

	"xmppgw/mapping"
)

// escalateEvery is how often Run looks for groups to escalate.
const escalateEvery = time.Second

// Run escalates the groups nobody acknowledges, and retries refused
// notices (see Escalate), every second, until ctx ends. A failure of the store is logged and tried again.
func (d *Desk) Run(ctx context.Context) {
	t := time.NewTicker(escalateEvery)
	defer t.Stop()
	for {
		if err := d.Escalate(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("cannot escalate alerts; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Escalate makes the silences answers asked for and a crash left unmade,
// one a run, after the pages (see Answer; with silences off since, it
// drops them and tells who asked), sends the notices of answers a rate cap refused, and each open,
// unacknowledged group whose next escalation
// step is due to that step's destinations, who become its recipients. A
// step's messages are queued before the step is saved as done, with ids
// of their own: a crash between the two sends them again once the gateway
// is back, and the queue takes them once. A step a rate cap refused for
// some of its destinations stays due, and is sent to them on a later run,
// after a backoff (30 s, doubling up to 5 minutes), as are refused
// notices. A group is saved only if a page went out or a step is done.
func (d *Desk) Escalate(ctx context.Context) error {
	silences, err := d.escalateLocked(ctx)
	for _, ps := range silences {
		if err != nil || ctx.Err() != nil {
			// Not tried: tried on a later run.
			d.mu.Lock()
			delete(d.silencing, ps.g.Key+"\x00"+ps.key)
			d.mu.Unlock()
			continue
		}
		err = d.silence(ctx, ps, true)
	}
	return err
}

// escalateLocked is Escalate under the lock; it returns the silences
// recorded and never made (a crash came between), to make outside it.
func (d *Desk) escalateLocked(ctx context.Context) ([]pendingSilence, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	groups, given, err := d.load(ctx, nil)
	if err != nil {
		return nil, err
	}
	now := d.now()
	silences := d.pendingSilences(groups, now)
	for gi, g := range groups {
		if given[gi] {
			// Opened before routes had identities: escalated by its
			// route's index, as it was, and stored with its identity.
			if err := d.book.Save(ctx, g); err != nil {
				return silences, err
			}
		}
		for i := range g.Answers {
			if !d.due(g.Key+"\x00"+g.Answers[i].Key, now) {
				continue
			}
			if err := d.tell(ctx, &g, i); err != nil {
				return silences, err
			}
		}
		if g.AckedBy != "" || g.Firing == "" || g.RouteID == "explicit" {
			continue
		}
		ri := d.route(g.RouteID)
		if ri < 0 {
			if k := g.Key + "\x00route"; !d.refused[k] {
				d.refused[k] = true
				d.log.Warn("an open alert group's route is no longer in the config: not escalated until a notification of it finds its route; its resolution still closes it", "code", g.Code)
			}
			continue
		}
		r := d.routes[ri]
		changed := false // saved only if a page went out or a step is done
		for g.Steps < len(r.steps) && now.Sub(g.Since) >= r.Escalate[g.Steps].After {
			if !d.due(g.Key+"\x00"+strconv.Itoa(g.Steps), now) {
				break
			}
			done, sent, err := d.escalate(ctx, &g, r)
			if err != nil {
				return silences, err
			}
			changed = changed || done || sent
			if !done {
				break
			}
			g.Steps++
		}
		if changed {
			if err := d.book.Save(ctx, g); err != nil {
				return silences, err
			}
		}
	}
	return silences, nil
}

// escalate sends g's next step to those of its destinations not sent it
// yet (their pages are noted), who become recipients; sent reports
// whether any was sent, done is false if a rate cap refused some: the step
// is tried again after a backoff (see backOff).
func (d *Desk) escalate(ctx context.Context, g *mapping.AlertGroup, r route) (done, sent bool, err error) {
	after := r.Escalate[g.Steps].After
	head := "Escalated: not acknowledged after " + after.String() + "."
	sms := g.SMSText
	if OneSMS("ESCALATED " + sms) {
		sms = "ESCALATED " + sms
	}
	var to []string
	for _, dest := range r.steps[g.Steps] {
		to = append(to, dest.JID)
	}
	step := strconv.Itoa(g.Steps)
	var out []delivery
	for _, o := range d.deliveries(to, head+"\n"+g.FullText, sms, func(dest string) string { return hashID("escalate", g.Key, step, dest) }) {
		code, ok, err := d.book.NoteCode(ctx, o.id)
		if err != nil {
			return false, false, err
		}
		if !ok || code != g.Code {
			out = append(out, o)
		}
	}
	refused, err := d.queue(ctx, out)
	if err != nil {
		return false, false, err
	}
	pending := d.refused[g.Key+"\x00"+step]
	var told []string
	for _, o := range out {
		if slices.Contains(refused, o) {
			if !pending {
				d.log.Warn("an escalation refused over a rate limit; trying again", "code", g.Code, "step", g.Steps, "to", o.dest.JID)
			}
			continue
		}
		if err := d.book.Note(ctx, o.id, g.Code); err != nil {
			return false, false, err
		}
		told = append(told, o.dest.JID)
		if !slices.Contains(g.Recipients, o.dest.JID) {
			g.Recipients = append(g.Recipients, o.dest.JID)
		}
	}
	if len(told) > 0 {
		d.log.Info("alert escalated", "code", g.Code, "step", g.Steps, "to", told)
	}
	if len(refused) > 0 {
		d.refused[g.Key+"\x00"+step] = true
		d.backOff(g.Key+"\x00"+step, d.now())
		return false, len(told) > 0, nil
	}
	delete(d.refused, g.Key+"\x00"+step)
	delete(d.retry, g.Key+"\x00"+step)
	return true, len(told) > 0, nil
}
