package component

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"xmppgw/internal/backoff"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// lane is the ordered queue of jobs to one remote contact from one account.
// One worker at a time drains it, so messages to a contact keep their order.
// It holds at most laneJobs jobs; the ids of its later ones wait in stored,
// and the worker reads those jobs back from the store as it goes.
type lane struct {
	jobs    []mapping.Job
	stored  []int64 // ids of the lane's next jobs, in order, only in the store until jobs is empty
	running bool
}

// Memory is bounded in a backlog (a provider down, a burst of sends): a lane
// holds at most laneJobs jobs, and the lanes together at most lanesJobs,
// past which the dispatcher stops reading until they are down to half. A
// slow lane (a contact whose sends fail and are retried, a number paced
// at its rate) holds only its own laneJobs, so the others go on; of the
// rest of its backlog it holds only the ids, at most lanesStored in all
// lanes (8 bytes each), past which the dispatcher stops reading too, for
// every lane: a bound on memory, reached only by a huge backlog. (The
// Gateway's maxLane, maxLanes and maxStored, which tests lower.)
const (
	laneJobs    = 256
	lanesJobs   = 16384
	lanesStored = 1 << 20
)

// storePoll is how often the queues are read even without a wake-up, for
// what another process stored in a shared database.
const storePoll = 5 * time.Second

// dispatchLoop moves stored jobs into lanes as they are enqueued.
func (g *Gateway) dispatchLoop(ctx context.Context) {
	var last int64
	fromStore := true // read the store until caught up, then take handoffs
	poll := time.NewTicker(storePoll)
	defer poll.Stop()
	for {
		for g.lanesFull() {
			select {
			case <-ctx.Done():
				g.drain()
				return
			case <-g.roomOut:
			}
			fromStore = true // handoffs may have been dropped meanwhile
		}
		if fromStore {
			jobs, err := g.o.Store.Jobs().Pending(ctx, g.name, last, 512)
			if err != nil && ctx.Err() == nil {
				g.log.Error("reading the outbound queue failed", "err", err)
				sleep(ctx, time.Second)
				continue
			}
			full := false
			for _, j := range jobs {
				last = j.ID
				if full = g.addJob(ctx, j); full {
					break // the rest is read again once there is room
				}
			}
			if full || len(jobs) == 512 {
				continue
			}
			fromStore = false
		}
		select {
		case <-ctx.Done():
			g.drain()
			return
		case j := <-g.handoff:
			// Stored jobs in id order, straight from the handler. Those
			// already read from the store are skipped; after a gap (a
			// handoff that did not fit, another transport's job), the store
			// is read instead, so none is missed.
			switch {
			case j.ID <= last:
			case j.ID == last+1:
				last = j.ID
				g.addJob(ctx, j)
			default:
				fromStore = true
			}
		case <-g.wakeOut:
			// A handoff did not fit, or jobs were stored elsewhere.
			fromStore = true
		case <-poll.C:
			// Another process may have stored jobs (a shared store).
			fromStore = true
		}
	}
}

// handOff passes a stored job to the dispatcher without a store read, or
// tells it to read the store if it is busy.
func (g *Gateway) handOff(j mapping.Job) {
	select {
	case g.handoff <- j:
	default:
		wake(g.wakeOut)
	}
}

// drain waits up to the grace period for lane workers to finish.
func (g *Gateway) drain() {
	done := make(chan struct{})
	go func() { g.busy.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(g.o.Grace):
		g.unfinished.Store(true)
		g.log.Warn("shutdown grace period over; unsent messages stay queued")
	}
}

// lanesFull reports whether the lanes hold maxLanes jobs or maxStored ids:
// the dispatcher waits for roomOut.
func (g *Gateway) lanesFull() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.full()
}

// full is lanesFull with g.mu held.
func (g *Gateway) full() bool { return g.inLanes >= g.maxLanes || g.storedIDs >= g.maxStored }

// addJob puts j in its lane, or its id in the lane's stored if the lane is
// full or already has stored ones, and starts the lane's worker. It reports
// whether the lanes are now full.
func (g *Gateway) addJob(ctx context.Context, j mapping.Job) (full bool) {
	key := j.Account + "\x00" + j.Remote
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.lanes[key]
	if l == nil {
		l = &lane{}
		g.lanes[key] = l
	}
	if len(l.stored) > 0 || len(l.jobs) >= g.maxLane {
		l.stored = append(l.stored, j.ID)
		g.storedIDs++
	} else {
		l.jobs = append(l.jobs, j)
		g.inLanes++
	}
	if !l.running {
		l.running = true
		g.busy.Add(1)
		go g.runLane(ctx, key, l)
	}
	return g.full()
}

// runLane sends the lane's jobs in order until it has none.
func (g *Gateway) runLane(ctx context.Context, key string, l *lane) {
	defer g.busy.Done()
	for {
		g.mu.Lock()
		if ctx.Err() != nil || len(l.jobs) == 0 && len(l.stored) == 0 {
			delete(g.lanes, key)
			g.storedIDs -= len(l.stored)
			g.mu.Unlock()
			return
		}
		if len(l.jobs) == 0 {
			ids := l.stored[:min(len(l.stored), g.maxLane)]
			g.mu.Unlock()
			jobs, err := g.o.Store.Jobs().JobsByID(ctx, g.name, ids)
			if err != nil {
				// Read again: the ids stay in stored until then.
				if ctx.Err() == nil {
					g.log.Error("reading a contact's queued messages failed", "err", err)
					sleep(ctx, time.Second)
				}
				continue
			}
			g.mu.Lock()
			// Those not found were taken out of the queue meanwhile.
			l.stored = l.stored[len(ids):]
			if len(l.stored) == 0 {
				l.stored = nil // the array goes
			}
			if g.storedIDs -= len(ids); g.storedIDs <= g.maxStored/2 && g.storedIDs+len(ids) > g.maxStored/2 {
				wake(g.roomOut)
			}
			l.jobs = append(l.jobs, jobs...)
			g.inLanes += len(jobs)
			g.mu.Unlock()
			continue
		}
		j := l.jobs[0]
		g.mu.Unlock()

		g.sendJob(ctx, j)

		g.mu.Lock()
		l.jobs[0] = mapping.Job{} // not kept by the array until it is reused
		l.jobs = l.jobs[1:]
		if len(l.jobs) == 0 {
			l.jobs = nil // the array goes, rather than growing behind a moving start
		}
		g.inLanes--
		if g.inLanes == g.maxLanes/2 {
			wake(g.roomOut)
		}
		g.mu.Unlock()
	}
}

// sendJob sends j, retrying temporary failures with jittered exponential
// backoff until it succeeds, fails for good, outlives RetryFor, or ctx ends
// (then it stays in the store).
func (g *Gateway) sendJob(ctx context.Context, j mapping.Job) {
	out := transports.Outbound{
		Account: transports.Addr(j.Account), To: transports.Addr(j.Remote),
		Body: j.Body, ID: strconv.FormatInt(j.ID, 10), Quote: j.Quote, Media: j.Media,
	}
	// The originals were sent before this job (same lane), if at all. A
	// correction or retraction of a message not known here is refused: it
	// must never go out as a message without its text.
	if j.Replaces != "" {
		if out.Replaces = g.providerID(ctx, j, j.Replaces, false); out.Replaces == "" {
			g.refuseJob(ctx, j, newError("cancel", "item-not-found", "that message is not known here"))
			return
		}
	}
	if j.Retracts != "" {
		if out.Retracts = g.providerID(ctx, j, j.Retracts, false); out.Retracts == "" {
			g.refuseJob(ctx, j, newError("cancel", "item-not-found", "that message is not known here"))
			return
		}
	}
	if j.ReplyTo != "" {
		out.ReplyTo = g.providerID(ctx, j, j.ReplyTo, true)
	}
	if j.ReactTo != "" {
		out.ReactTo, out.Reactions = g.providerID(ctx, j, j.ReactTo, true), j.Reactions
	}
	if out.Empty() {
		g.refuseJob(ctx, j, newError("modify", "not-acceptable", "the message has nothing to send"))
		return
	}
	rec, _ := g.o.Transport.(transports.Reconciler)
	_, idempotent := g.o.Transport.(transports.IdempotentSender)
	// Past RetryFor, a send whose outcome is unknown is not made again:
	// last is the failure its sender is told of unless a check finds the
	// message at the provider, and checks that fail go on until lastUntil.
	var last, sendErr *transports.Error // sendErr: the last send's failure
	var lastUntil time.Time
	for attempt := j.Attempts; ; attempt++ {
		var remoteID string
		var err error
		found, checkFailed := false, false
		if rec != nil && !j.Inflight.IsZero() {
			// A send began before and its outcome is unknown: ask first.
			remoteID, found, err = g.reconcile(ctx, rec, j, out)
			switch {
			case last != nil && errors.Is(err, transports.ErrCannotReconcile), last != nil && err == nil && !found:
				// Not there, or no way to know: the failure stands.
				g.Stats.Failed.Add(1)
				g.log.Warn("message failed", "stanza_id", j.StanzaID, "err", last)
				g.failJob(ctx, j, last)
				return
			case errors.Is(err, transports.ErrCannotReconcile):
				// No way to know: at least once, a possible duplicate.
				g.uncheckedResend(j, err)
				err = nil
			case err != nil:
				checkFailed = true
			}
		}
		if err == nil && !found {
			// A transport that cannot be asked sends again what the
			// provider may have taken: at least once, a possible
			// duplicate, unless the provider takes a repeated send once.
			resend := rec == nil && !idempotent && !j.Inflight.IsZero()
			if j.Inflight.IsZero() {
				// Kept in memory; the store learns it only if the outcome
				// stays unknown, or, for a Reconciler, from an unclean
				// shutdown (see Run).
				j.Inflight = time.Now()
			}
			if g.pacer != nil {
				// Waiting for this contact's turn holds no request slot.
				if err := g.pacer.Pace(ctx, out); err != nil {
					return // shutting down: the job stays queued
				}
			}
			select {
			case g.sem <- struct{}{}:
			case <-ctx.Done():
				return // shutting down (or the lead lost): the job stays queued
			}
			if ctx.Err() != nil { // both were ready: select chose either
				<-g.sem
				return
			}
			if start, ok := g.outClock.take(j.ID); ok {
				g.observe("out", start)
			}
			if resend {
				why := error(transports.ErrCannotReconcile)
				if sendErr != nil {
					why = fmt.Errorf("%w; the last attempt: %w", why, sendErr)
				}
				g.uncheckedResend(j, why)
			}
			// A request in flight finishes even if shutdown begins meanwhile.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
			began := time.Now()
			remoteID, err = g.o.Transport.Send(sctx, out)
			cancel()
			<-g.sem
			g.observeRequest(began, err)
		}
		if err == nil {
			g.sent(ctx, j, ownID(out, remoteID))
			return
		}
		pe := providerError(err)
		if checkFailed {
			// The check failed, not the send: whatever the listing's
			// answer, the message may still go out.
			pe = checkError(pe)
		} else {
			sendErr = pe
			if pe.Kind == transports.KindRateLimited || pe.NotSent {
				// A refusal, or no request made: the provider surely did
				// not take the message. A timeout or a 5xx leaves it
				// unknown.
				j.Inflight = time.Time{}
			}
		}
		switch {
		case !pe.Temporary(), last != nil && time.Now().After(lastUntil):
			g.Stats.Failed.Add(1)
			g.log.Warn("message failed", "stanza_id", j.StanzaID, "err", pe)
			g.failJob(ctx, j, pe)
			return
		case last != nil:
			// The last check failed: it is made again, as within RetryFor.
		case !checkFailed && pe.Kind == transports.KindRateLimited && !pe.PartSent && pe.RetryAfter > 0 &&
			time.Now().Add(pe.RetryAfter).After(j.Created.Add(g.o.RetryFor)):
			// The provider took nothing and asks for a wait that ends
			// past RetryFor: the sender learns it now, not after the wait.
			// Once part of the message went out, the wait is honoured
			// instead, and the rest sent after it (one attempt past
			// RetryFor): failing would leave the recipient half of it.
			pe = waitTooLong(pe, time.Until(j.Created.Add(g.o.RetryFor)))
			g.Stats.Failed.Add(1)
			g.log.Warn("message failed", "stanza_id", j.StanzaID, "err", pe)
			g.failJob(ctx, j, pe)
			return
		case time.Since(j.Created) <= g.o.RetryFor:
		case rec == nil || j.Inflight.IsZero():
			// The provider surely did not take it, or cannot be asked.
			g.Stats.Failed.Add(1)
			g.log.Warn("message failed", "stanza_id", j.StanzaID, "err", pe)
			g.failJob(ctx, j, pe)
			return
		default:
			// Past RetryFor, the outcome unknown: one check first, which
			// adopts the message if the provider has it; while checks
			// fail, they go on for up to RetryFor more.
			last, lastUntil = pe, time.Now().Add(g.o.RetryFor)
			if checkFailed && sendErr != nil {
				last = sendErr
			}
		}
		g.Stats.Retries.Add(1)
		if g.o.Metrics != nil {
			g.o.Metrics.Retries.WithLabelValues(g.name).Inc()
		}
		g.persist(ctx, func(c context.Context) error { return g.o.Store.Jobs().Attempted(c, j.ID, j.Inflight) })
		wait := g.backoff(attempt)
		if pe.RetryAfter > wait {
			wait = pe.RetryAfter
		}
		msg := "send failed; will retry"
		if last != nil {
			msg = "send of unknown outcome past retry_for; will check at the provider before reporting it failed"
		}
		g.log.Info(msg, "stanza_id", j.StanzaID, "err", pe, "retry_in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return
		}
	}
}

// uncheckedResend counts and logs a send of j whose earlier attempt's
// outcome is unknown, made again without a check at the provider (why):
// the recipient may get it twice.
func (g *Gateway) uncheckedResend(j mapping.Job, why error) {
	g.Stats.UncheckedResends.Add(1)
	if g.o.Metrics != nil {
		g.o.Metrics.UncheckedResends.WithLabelValues(g.name).Inc()
	}
	g.log.Warn("a send of unknown outcome cannot be checked at the provider; sending again, possibly a duplicate",
		"stanza_id", j.StanzaID, "err", why)
}

// providerID returns the provider's id of the message that j's sender knows
// as stanzaID: one the sender sent, or (if received is true) one the sender
// received from the contact, whose stanza id is the provider's id already.
// It returns "" when it is neither.
func (g *Gateway) providerID(ctx context.Context, j mapping.Job, stanzaID string, received bool) string {
	var id string
	var found bool
	g.persist(ctx, func(c context.Context) (err error) {
		id, found, err = g.o.Store.Jobs().SentID(c, g.name, j.Remote, bareJID(j.Sender), stanzaID)
		return err
	})
	if !found && received {
		return stanzaID
	}
	return id
}

// ownID is remoteID, the id Send returned for out, if it names a message
// of its own: a retraction or a reaction that returns the id of the
// message it refers to (against transports.Transport.Send's contract)
// gets "", so that its record does not stand for that message.
func ownID(out transports.Outbound, remoteID string) string {
	if remoteID != "" && (remoteID == out.Retracts || remoteID == out.ReactTo) {
		return ""
	}
	return remoteID
}

// sent records that the provider took j as remoteID, and passes on the
// delivery reports that arrived before this was recorded.
func (g *Gateway) sent(ctx context.Context, j mapping.Job, remoteID string) {
	g.Stats.ToProvider.Add(1)
	g.countMessage("out")
	g.log.Debug("sent", "stanza_id", j.StanzaID, "provider_id", remoteID)
	var receipt [][]byte
	if g.receiptOnAccept && (j.Receipt || j.Markable) {
		// No delivery report will come: the provider's acceptance is the
		// receipt, stored with the send's record. A send accepted without
		// an id of its own (a retraction or a reaction, see
		// transports.Transport.Send) is acknowledged all the same, under
		// the job's id.
		id := remoteID
		if id == "" {
			id = "job-" + strconv.FormatInt(j.ID, 10)
		}
		if contact, err := g.contactJID(transports.Addr(j.Remote)); err == nil {
			receipt = append(receipt, receiptStanza(id, contact.String(), j.Sender, j.StanzaID, j.Receipt, j.Markable))
		}
	}
	var early []mapping.Report
	g.persist(ctx, func(c context.Context) (err error) {
		early, err = g.o.Store.Jobs().Sent(c, j, remoteID, receipt...)
		return err
	})
	if receipt != nil {
		wake(g.wakeIn)
	}
	for _, r := range early {
		g.persist(ctx, func(c context.Context) error { return g.reportEarly(c, r) })
	}
}

// reconcile looks for j at the provider: a message like it, created since
// the unresolved send began, that is not recorded as another job's.
func (g *Gateway) reconcile(ctx context.Context, rec transports.Reconciler, j mapping.Job, out transports.Outbound) (string, bool, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Provider clocks and ours differ a little; ids already ours are skipped.
	ids, err := rec.SentSince(rctx, out, j.Inflight.Add(-2*time.Second))
	if err != nil {
		return "", false, err
	}
	for _, id := range ids {
		known, err := g.o.Store.Jobs().KnownRemote(rctx, g.name, id)
		if err != nil {
			return "", false, err
		}
		if !known {
			g.Stats.Reconciled.Add(1)
			g.log.Info("a send of unknown outcome had reached the provider; not repeated", "stanza_id", j.StanzaID, "provider_id", id)
			return id, true, nil
		}
	}
	return "", false, nil
}

// waitTooLong is pe, a rate limit whose wait (RetryAfter) ends past the
// time left of the job's retry_for, as its sender is told of it.
func waitTooLong(pe *transports.Error, left time.Duration) *transports.Error {
	round := func(d time.Duration) time.Duration {
		if d < time.Second {
			return d.Round(time.Millisecond)
		}
		return d.Round(time.Second)
	}
	e := *pe
	e.Message = fmt.Sprintf("%s (the wait asked for, %s, ends past retry_for: %s left)",
		pe.Message, round(pe.RetryAfter), round(max(left, 0)))
	return &e
}

// checkError is a failed reconciliation as a failure of the send: always
// temporary, so the job is retried within RetryFor (then the sender gets
// the usual timeout error), keeping the provider's RetryAfter.
func checkError(pe *transports.Error) *transports.Error {
	return &transports.Error{
		Kind: transports.KindUnavailable, Provider: pe.Provider, Code: pe.Code, RetryAfter: pe.RetryAfter,
		Message: "could not check whether an earlier attempt reached the provider: " + pe.Message,
	}
}

// failJob tells the sender that j failed, with the provider's reason.
func (g *Gateway) failJob(ctx context.Context, j mapping.Job, pe *transports.Error) {
	g.refuseJob(ctx, j, errorFor(pe, g.domain.String()))
}

// refuseJob removes j from the queue and tells its sender why, with e.
func (g *Gateway) refuseJob(ctx context.Context, j mapping.Job, e *stanzaError) {
	e.By = g.domain.String()
	contact, err := g.contactJID(transports.Addr(j.Remote))
	from := g.domain.String()
	if err == nil {
		from = contact.String()
	}
	st := failureStanza(j.StanzaID, from, j.Sender, e)
	g.persist(ctx, func(c context.Context) error { return g.o.Store.Jobs().Failed(c, j, st) })
	wake(g.wakeIn)
}

// persist retries a store write that must not be lost until it succeeds:
// while the gateway runs, for as long as it takes (a full disk is waited
// out); after shutdown began, for the grace period.
func (g *Gateway) persist(ctx context.Context, f func(context.Context) error) {
	var grace <-chan time.Time
	for attempt := 0; ; attempt++ {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		err := f(c)
		cancel()
		if err == nil {
			return
		}
		g.log.Error("store write failed; retrying", "err", err)
		if grace == nil && ctx.Err() != nil {
			grace = time.After(g.o.Grace)
		}
		done := ctx.Done()
		if grace != nil {
			done = nil // already in the grace period: just wait
		}
		t := time.NewTimer(min(sendRetry.Delay(attempt), 5*time.Second))
		select {
		case <-t.C:
		case <-grace:
			t.Stop()
			g.log.Error("store write abandoned at shutdown; the next start redoes it")
			return
		case <-done:
			// Shutdown began: from now on only the grace period is left.
			t.Stop()
		}
	}
}

// bareJID strips the resource from a JID string.
func bareJID(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}

// sendRetry is the backoff of a failed send: 1 s doubling to 5 minutes.
var sendRetry = backoff.Policy{Min: time.Second, Max: 5 * time.Minute}

// sleep waits d or until ctx is done; it reports whether d passed.
var sleep = backoff.Sleep
