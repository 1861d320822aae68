package alerts

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// escalateEvery is how often Run looks for groups to escalate.
const escalateEvery = time.Second

// Run escalates the groups nobody acknowledges, every second, until ctx
// ends. A failure of the store is logged and tried again.
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

// Escalate sends each open, unacknowledged group whose next escalation
// step is due to that step's destinations, who become its recipients. A
// step's messages are queued before the step is saved as done, with ids
// of their own: a crash between the two sends them again once the gateway
// is back, and the queue takes them once.
func (d *Desk) Escalate(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	groups, err := d.book.Groups(ctx)
	if err != nil {
		return err
	}
	now := d.now()
	for _, g := range groups {
		if g.AckedBy != "" || g.Firing == "" || g.Route < 0 || g.Route >= len(d.routes) {
			continue
		}
		r := d.routes[g.Route]
		changed := false
		for g.Steps < len(r.steps) && now.Sub(g.Since) >= r.Escalate[g.Steps].After {
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
			out := d.deliveries(to, head+"\n"+g.FullText, sms, func(dest string) string { return hashID("escalate", g.Key, step, dest) })
			refused, err := d.queue(ctx, out)
			if err != nil {
				return err
			}
			d.warnRefused("an escalation", refused)
			for _, o := range out {
				if err := d.book.Note(ctx, o.id, g.Code); err != nil {
					return err
				}
			}
			d.log.Info("alert escalated", "code", g.Code, "step", g.Steps, "to", to)
			for _, t := range to {
				if !slices.Contains(g.Recipients, t) {
					g.Recipients = append(g.Recipients, t)
				}
			}
			g.Steps++
			changed = true
		}
		if changed {
			if err := d.book.Save(ctx, g); err != nil {
				return err
			}
		}
	}
	return nil
}
