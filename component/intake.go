package component

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// The intake is the stage between the read loop and the store.
//
// A handler that turns a stanza into jobs hands them to the intake and
// returns: the read loop never waits for a commit. It waits only when the
// intake is full (intakeSize stanzas), and the server then sees TCP
// back-pressure; nothing is dropped. The intake commits what it holds in
// groups, one transaction per group (Store.EnqueueBatch). A group is
// bounded by maxIntakeGroup jobs and by intakeWait, and is committed at
// once when no more stanzas are waiting: an idle stream never waits for
// company, and while a commit runs the next group gathers.
//
// Nothing is acknowledged before its commit: jobs reach the dispatcher,
// hence the provider (and so receipts and markers, which follow the
// provider's answer), only once committed. If a group's commit fails,
// every stanza of the group is answered with wait/resource-constraint, in
// order, written to the session from the intake's goroutine.
//
// Once the read loop has ended (Run closes the session only at shutdown),
// what answers the last groups is counted and logged (Stats.Unwritten),
// not written: no session will come to write it to.
//
// A crash loses at most what was read but not yet committed: at most
// intakeSize stanzas, the same window as the socket's kernel buffer.
//
// Before Run starts it (a Gateway used without Run, as in tests), a stanza
// is committed on the caller's goroutine and refused through its writer.
const (
	intakeSize     = 1024                   // stanzas held before the read loop waits
	maxIntakeGroup = 256                    // jobs in one commit
	intakeWait     = 2 * time.Millisecond   // longest a group gathers
	intakeReplyFor = 5 * time.Second        // bounds writing a group's answers from the intake
	intakeCommitTO = storeTimeout           // bounds one group's commit
	intakeLog      = "intake commit failed" // logged once per failed group
)

// intake holds the stanzas handed over by the read loop until committed.
type intake struct {
	items chan *intakeItem
	// readEnded ends when the read loop has ended, and with it the session
	// for good (Run closes it only at shutdown): drain and return, and
	// write no more answers (endRead ends it).
	readEnded context.Context
	endRead   context.CancelFunc
	stopped   chan struct{} // closed when the loop has returned
	running   atomic.Bool   // the loop runs: hand stanzas to it (cleared under mu)

	// mu orders a hand-over's check of running with the loop's end: the
	// loop clears running under it, then reads until every hand-over begun
	// before (handing) is done, so no item is left in items unread.
	mu      sync.Mutex
	handing sync.WaitGroup
	// checked, if set, runs in submit between the check of running and
	// the hand-over (tests).
	checked func()

	// waits counts the stanzas for which the read loop waited for room.
	waits atomic.Int64
	// pending counts the items handed over and not yet done with.
	pending atomic.Int64
	// commit stores a group's jobs in one transaction: Store.EnqueueBatch,
	// unless a test replaces it before Run.
	commit func(context.Context, []mapping.Job) ([]mapping.Enqueued, error)
	// refuse, if set, replaces writing a failed group's answers to the
	// session (tests).
	refuse func(ctx context.Context, stanzas [][]byte) error
}

func newIntake(store *mapping.Store, size int) *intake {
	in := &intake{
		items:   make(chan *intakeItem, size),
		stopped: make(chan struct{}),
		commit:  store.Jobs().EnqueueBatch,
	}
	in.readEnded, in.endRead = context.WithCancel(context.Background())
	return in
}

// intakeItem is one stanza's jobs.
type intakeItem struct {
	jobs    []mapping.Job
	in      inStanza // what the refusal answers
	from    jid.JID
	to      jid.JID   // where the stanza was sent: the refusal's from
	user    string    // the sender's bare JID
	counted time.Time // when the jobs were counted against the user's quota
	t       router.Writer
	// then, if set, runs once the jobs are stored (or found to be
	// resends), on the intake's goroutine: what w is given is written to
	// the session then (to t before Run).
	then func(ctx context.Context, w router.Writer)
	// after, if set, runs once what the thens of the group it is in gave
	// the session is written to it (the write has returned), or given up,
	// on the intake's goroutine, after the group's thens: with a writer
	// that writes each stanza to that session at once, or drops and counts
	// it if the group's were not written (with it.t before Run). What
	// follows a step's answers and must not overtake them goes there
	// (core.AfterWritten).
	after func(w router.Writer)
	// resent is set, before then runs, if every job was found queued
	// already: the stanza was resent, and nothing new is stored.
	resent bool
	// written, if set, is closed once the answers of the group it is in
	// are written (or given up): a marker (Gateway.settle).
	written chan struct{}
}

// msgTarget is one contact a message goes to, and the account it is sent
// from.
type msgTarget struct {
	remote, account transports.Addr
}

// queueMessage hands in to the intake as one job per target: stored, in one
// transaction, then given to the dispatcher. A resend of a queued message
// is not queued again. It returns before the commit (see intake), once the
// intake has room. t must not have been written to yet (the intake may
// need the session's output to refuse a stanza while the read loop waits).
func (g *Gateway) queueMessage(t router.Writer, in inStanza, from, to jid.JID, targets ...msgTarget) {
	g.queueMessageThen(t, in, from, to, nil, targets...)
}

// queueMessageThen is queueMessage, with then run once the message is
// stored (see intakeItem.then): what acknowledges it, such as a room's
// reflection. resent tells then that the message was found queued
// already (see intakeItem.resent).
func (g *Gateway) queueMessageThen(t router.Writer, in inStanza, from, to jid.JID,
	then func(ctx context.Context, w router.Writer, resent bool), targets ...msgTarget) {
	p := messageParts(in)
	if e := overLimits(in, p); e != nil {
		g.reply(t, in, from, to, e)
		return
	}
	sender, user := g.jids.strings(in.From, from)
	it := &intakeItem{in: in, from: from, to: to, user: user, t: t}
	if then != nil {
		it.then = func(ctx context.Context, w router.Writer) { then(ctx, w, it.resent) }
	}
	for _, tg := range targets {
		j := mapping.Job{
			Transport: g.name,
			Sender:    sender,
			Account:   string(tg.account),
			Remote:    string(tg.remote),
			Body:      p.body,
			StanzaID:  in.ID,
			Receipt:   in.Request != nil,
			Markable:  in.Markable != nil,
			ReplyTo:   p.replyTo,
			Quote:     p.quote,
			Media:     p.media,
			Retracts:  p.retracts,
			ReactTo:   p.reactTo,
			Reactions: p.reacts,
			Shared:    len(g.ownersOfAccount(tg.account)) > 1,
		}
		if in.Replace != nil {
			j.Replaces = in.Replace.ID
		}
		if in.OriginID != nil {
			j.OriginID = in.OriginID.ID
		}
		it.jobs = append(it.jobs, j)
	}
	if g.quota != nil {
		// Counted now, so the next stanza's check sees them; given back
		// if not queued after all.
		it.counted = time.Now()
		for range it.jobs {
			g.quota.add(it.user, it.counted)
		}
	}
	g.submit(it)
}

// submit hands it to the intake, waiting for room if it is full; before
// Run (or after the intake has stopped), it commits it at once instead.
func (g *Gateway) submit(it *intakeItem) {
	in := g.in
	if !in.handOver() {
		g.commitGroup(g.baseCtx(), []*intakeItem{it}, true)
		return
	}
	defer in.handing.Done()
	if in.checked != nil {
		in.checked()
	}
	in.pending.Add(1)
	select {
	case in.items <- it:
		return
	default:
	}
	in.waits.Add(1)
	in.items <- it // back-pressure: the read loop waits here; the loop reads until it is in
}

// handOver reports whether the loop runs, and if so counts a hand-over
// in handing, which the caller ends once its item is in items.
func (in *intake) handOver() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.running.Load() {
		return false
	}
	in.handing.Add(1)
	return true
}

// close ends the hand-overs (submit commits at once from now on) and
// returns a channel closed once those begun before are done.
func (in *intake) close() <-chan struct{} {
	in.mu.Lock()
	in.running.Store(false)
	in.mu.Unlock()
	handed := make(chan struct{})
	go func() { in.handing.Wait(); close(handed) }()
	return handed
}

// afterCommits reports whether v, an answer a handler writes, must wait
// for the commits of stanzas read before it, and if so hands it to the
// intake, which writes it once they are done. A client may take any answer
// (a ping's result, a refusal) for a sign that what it sent before was
// taken: nothing acknowledges a message before its commit.
func (g *Gateway) afterCommits(t router.Writer, v any) bool {
	if g.in.pending.Load() == 0 {
		return false
	}
	g.submit(&intakeItem{t: t, then: func(_ context.Context, w router.Writer) { w.Encode(v) }})
	return true
}

// intakeLoop commits what the read loop hands over, in groups, until the
// read loop has ended (stopIntake), then commits what is left and returns.
func (g *Gateway) intakeLoop(ctx context.Context) {
	in := g.in
	defer close(in.stopped)
	for {
		var first *intakeItem
		select {
		case first = <-in.items:
		case <-in.readEnded.Done():
			// The read loop has ended, but a step (Later) may still hand
			// something over: commit until the hand-overs begun are done,
			// then the rest; later ones commit at once (submit).
			handed := in.close()
			for {
				select {
				case first = <-in.items:
					g.commitGroup(ctx, g.gather(first), false)
					continue
				case <-handed:
				}
				for {
					select {
					case first = <-in.items:
						g.commitGroup(ctx, g.gather(first), false)
					default:
						return
					}
				}
			}
		}
		g.commitGroup(ctx, g.gather(first), false)
	}
}

// done marks group's items as done with.
func (in *intake) done(group []*intakeItem) { in.pending.Add(-int64(len(group))) }

// gather returns a group starting with first: the stanzas waiting behind
// it, up to maxIntakeGroup jobs and for at most intakeWait.
func (g *Gateway) gather(first *intakeItem) []*intakeItem {
	group := []*intakeItem{first}
	n := len(first.jobs)
	deadline := time.Now().Add(intakeWait)
	for n < maxIntakeGroup {
		select {
		case it := <-g.in.items:
			group = append(group, it)
			n += len(it.jobs)
		default:
			return group // none waiting: the stream is idle, commit now
		}
		if time.Now().After(deadline) {
			break
		}
	}
	return group
}

// stopIntake tells the intake that the read loop has ended.
func (g *Gateway) stopIntake() { g.in.endRead() }

// commitGroup stores the jobs of group in one transaction, then hands them
// to the dispatcher; or, if that fails, refuses every stanza of the group,
// in order. inline is set when called on the read loop (before Run): the
// refusal is then written to the stanza's own writer.
func (g *Gateway) commitGroup(ctx context.Context, group []*intakeItem, inline bool) {
	if !inline {
		defer g.in.done(group)
	}
	defer func() {
		for _, it := range group {
			if it.written != nil {
				close(it.written)
			}
		}
	}()
	// What the thens gave the session, once written: its session, or nil
	// if it was not. Each item's after runs then (before written closes).
	var wrote *xmpp.Session
	written := false
	defer func() { g.afterWritten(ctx, group, inline, wrote, written) }()
	var jobs []mapping.Job
	for _, it := range group {
		jobs = append(jobs, it.jobs...)
	}
	var res []mapping.Enqueued
	var err error
	if len(jobs) > 0 {
		// The commit finishes even if shutdown has begun: the stanzas are read.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), intakeCommitTO)
		res, err = g.in.commit(cctx, jobs)
		cancel()
	}
	// What acknowledges the group's stanzas, or refuses them, in order:
	// to each stanza's writer if inline, else to the session at once.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), intakeReplyFor)
	defer cancel()
	var later laterWriter
	out := func(it *intakeItem) router.Writer {
		if inline {
			return it.t
		}
		return &later
	}
	if err != nil {
		g.log.Error("cannot store messages; refused", "err", err, "stanzas", len(group), "jobs", len(jobs))
	}
	now := time.Now()
	k := 0
	for _, it := range group {
		switch {
		case err != nil && len(it.jobs) > 0:
			g.refuse(it, err, out(it))
			continue
		case err != nil:
			// An answer that waited for the stanzas before it: they are
			// refused, it goes as written.
		default:
			g.queued(it, res[k:k+len(it.jobs)], now)
			k += len(it.jobs)
		}
		if it.then != nil {
			it.then(tctx, out(it))
		}
	}
	if len(later) == 0 {
		written = true // nothing to write: after writes to the current session
		return
	}
	if g.in.readEnded.Err() != nil {
		// The intake's last commits: no session will come to write them to.
		g.unwritten(len(later))
		return
	}
	if err != nil && g.in.refuse != nil {
		werr := g.in.refuse(tctx, later)
		if werr != nil {
			g.log.Warn("could not write the refusals", "err", werr, "stanzas", len(later))
		}
		written = werr == nil
		return
	}
	// The wait for a session ends when the read loop does.
	stop := context.AfterFunc(g.in.readEnded, cancel)
	s, werr := g.writeSession(tctx, nil, later)
	stop()
	wrote, written = s, werr == nil
	switch {
	case werr == nil:
	case g.in.readEnded.Err() != nil:
		g.unwritten(len(later))
	case err != nil:
		// The only word their senders get that the messages were not
		// stored: kept for the next session, off the intake (whose wait
		// would hold up the read loop, and with it the session's end).
		g.refused.add(later, s)
	default:
		g.log.Warn("could not write the answers to stanzas handed to the intake", "err", werr, "stanzas", len(later))
	}
}

// afterWritten runs the afters of group's items (intakeItem.after), in
// order, once its answers are written (written), to session wrote (nil:
// the current one, if nothing was to be written), or given up: with each
// item's own writer if inline (before Run), else with a writer that writes
// at once to that session, or drops what it is given if they were not
// written.
func (g *Gateway) afterWritten(ctx context.Context, group []*intakeItem, inline bool, wrote *xmpp.Session, written bool) {
	var w *followWriter
	for _, it := range group {
		switch {
		case it.after == nil:
			continue
		case inline:
			it.after(it.t)
			continue
		case w == nil:
			w = &followWriter{g: g, s: wrote, dropped: !written}
			var cancel context.CancelFunc
			w.ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), intakeReplyFor)
			stop := context.AfterFunc(g.in.readEnded, cancel) // no session will come
			defer func() { stop(); cancel(); w.done() }()
		}
		it.after(w)
	}
}

// followWriter writes each stanza encoded to it to the session s (nil:
// the current one) at once, in one flush, from the intake's goroutine
// (afterWritten); or, if dropped, or once it fails, drops and counts it.
type followWriter struct {
	g       *Gateway
	ctx     context.Context
	s       *xmpp.Session
	dropped bool
	lost    int // stanzas dropped
	err     error
}

// Encode writes v to the session.
func (w *followWriter) Encode(v any) {
	if w.dropped || w.g.in.readEnded.Err() != nil {
		w.lost++
		return
	}
	st := [][]byte{render(v)}
	if w.s != nil {
		w.err = w.g.o.Conn.Write(w.s, st)
	} else {
		w.s, w.err = w.g.writeSession(w.ctx, nil, st)
	}
	if w.err != nil {
		w.dropped = true
		w.lost++
	}
}

// done logs and counts what was dropped.
func (w *followWriter) done() {
	switch {
	case w.lost == 0:
	case w.g.in.readEnded.Err() != nil || w.err == nil:
		// The session ended, or the answers they follow were not written:
		// a joining client joins again, and gets them from the history.
		w.g.unwritten(w.lost)
	default:
		w.g.log.Warn("could not write what followed the answers to stanzas handed to the intake", "err", w.err, "stanzas", w.lost)
	}
}

// queued hands it's jobs, stored as res, to the dispatcher, and marks it
// resent if every one was found queued already.
func (g *Gateway) queued(it *intakeItem, res []mapping.Enqueued, now time.Time) {
	queued := 0
	defer func() { it.resent = len(it.jobs) > 0 && queued == 0 }()
	for i, j := range it.jobs {
		r := res[i]
		if r.Dup {
			g.Stats.Resends.Add(1)
			g.log.Info("message resent by the client; already queued", "stanza_id", j.StanzaID, "remote", j.Remote)
			g.giveBackQuota(it)
			continue
		}
		queued++
		if g.o.Metrics != nil {
			g.outClock.mark(r.ID, it.in.read)
		}
		j.ID, j.Created = r.ID, now
		g.handOff(j)
	}
	if len(it.jobs) > 1 {
		g.log.Info("group message queued", "stanza_id", it.in.ID, "recipients", queued)
	}
}

// laterWriter keeps what is encoded to it, to be written to the session.
type laterWriter [][]byte

// Encode keeps v rendered.
func (w *laterWriter) Encode(v any) { *w = append(*w, render(v)) }

// refuse answers it, whose jobs could not be stored, with err's
// wait/resource-constraint, on w.
func (g *Gateway) refuse(it *intakeItem, err error, w router.Writer) {
	for range it.jobs {
		g.giveBackQuota(it)
	}
	if it.in.Type == "error" {
		return // never answered
	}
	e := storeError(err)
	g.countRefusal(e.Condition.XMLName.Local)
	w.Encode(message{Type: "error", ID: it.in.ID, From: it.to.String(), To: it.from.String(), Error: e})
}

// giveBackQuota uncounts one job of it from its user's quota.
func (g *Gateway) giveBackQuota(it *intakeItem) {
	if g.quota != nil && !it.counted.IsZero() {
		g.quota.remove(it.user, it.counted)
	}
}

// remove uncounts one message of user counted at at.
func (q *quota) remove(user string, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	times := q.sent[user]
	for i := len(times) - 1; i >= 0; i-- {
		if times[i].Equal(at) {
			times = append(times[:i], times[i+1:]...)
			break
		}
	}
	if len(times) == 0 {
		delete(q.sent, user)
	} else {
		q.sent[user] = times
	}
}

// writeNow writes stanzas to the current session in one flush, from a
// goroutine other than the read loop (never from a handler).
func (g *Gateway) writeNow(ctx context.Context, stanzas [][]byte) error {
	_, err := g.writeSession(ctx, nil, stanzas)
	return err
}

// writeSession is writeNow on the first session other than dead (nil: any)
// to be up; it returns the session it wrote to, or nil if none came up.
func (g *Gateway) writeSession(ctx context.Context, dead *xmpp.Session, stanzas [][]byte) (*xmpp.Session, error) {
	s, err := g.o.Conn.Session(ctx)
	for err == nil && s == dead {
		// A write to dead failed, which ended it, but it is still up
		// (it was closing): wait for the next.
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(100 * time.Millisecond):
			s, err = g.o.Conn.Session(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	return s, g.o.Conn.Write(s, stanzas)
}
