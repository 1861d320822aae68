package component

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/mapping"
)

// intakeMsg is a chat message from alice to a contact, as the read loop
// gets it.
func intakeMsg(id, body string) string {
	return `<message type="chat" id="` + id + `" from="alice@example.test/pc" to="+15551234567@sms.example.test"><body>` +
		body + `</body><request xmlns="urn:xmpp:receipts"/></message>`
}

// readLoop feeds stanzas to g.HandleXMPP one after the other, as the
// session's read loop does, and reports on handled each one that returned
// (by index). It stops at the first error.
func readLoop(t *testing.T, g *Gateway, stanzas []string, handled chan<- int) {
	t.Helper()
	go func() {
		for i, in := range stanzas {
			d := xml.NewDecoder(strings.NewReader(in))
			tok, err := d.Token()
			if err != nil {
				t.Error(err)
				return
			}
			start := tok.(xml.StartElement)
			var out bytes.Buffer
			enc := xml.NewEncoder(&out)
			if err := g.HandleXMPP(pipe{d, enc}, &start); err != nil {
				t.Errorf("HandleXMPP: %v", err)
				return
			}
			enc.Flush()
			if out.Len() > 0 {
				t.Errorf("stanza %d answered on the read loop: %s", i, out.String())
			}
			handled <- i
		}
	}()
}

// startIntake runs g's intake as Run does, until the test ends.
func startIntake(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g.in.running.Store(true)
	go g.intakeLoop(ctx)
	refusals := make(chan struct{})
	go func() { defer close(refusals); g.refusalLoop(ctx) }()
	t.Cleanup(func() {
		g.stopIntake()
		<-g.in.stopped
		cancel()
		<-refusals
	})
}

// eventually polls cond until it holds; it fails the test after a generous
// bound (a guard against hanging, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockedCommit replaces g's commit with one that waits for release
// before committing, and reports each group's size on entered.
func blockedCommit(g *Gateway) (entered chan int, release func()) {
	entered = make(chan int, 100)
	gate := make(chan struct{})
	commit := g.in.commit
	g.in.commit = func(ctx context.Context, jobs []mapping.Job) ([]mapping.Enqueued, error) {
		entered <- len(jobs)
		<-gate
		return commit(ctx, jobs)
	}
	var once sync.Once
	return entered, func() { once.Do(func() { close(gate) }) }
}

// A full intake makes the read loop wait, and nothing is dropped: every
// stanza is stored, in order, once the store takes them.
func TestIntakeBackPressure(t *testing.T) {
	g, _, store := testGateway(t)
	const size, n = 2, 8
	g.in = newIntake(store, size)
	entered, release := blockedCommit(g)
	defer release()
	startIntake(t, g)

	var stanzas []string
	for i := range n {
		stanzas = append(stanzas, intakeMsg(fmt.Sprintf("m%d", i), fmt.Sprintf("text %d", i)))
	}
	handled := make(chan int, n)
	readLoop(t, g, stanzas, handled)

	first := <-entered // the first group is being committed, and stays so
	// The read loop has waited for room (for this stanza or one before
	// the commit took the first group) and the intake is full: nothing
	// more can be taken until the commit ends.
	eventually(t, "the read loop waits for room", func() bool { return g.in.waits.Load() >= 1 && len(g.in.items) == size })
	// At most the group being committed and a full intake were taken; the
	// next stanza is waiting, and its handler has not returned.
	if got, most := len(handled), first+size; got > most || got >= n {
		t.Fatalf("%d of %d handlers returned while the intake was full, want at most %d (%d in the commit, %d held)", got, n, most, first, size)
	}
	if jobs, _ := store.Jobs().Pending(context.Background(), "sms", 0, 100); len(jobs) != 0 {
		t.Fatalf("%d jobs stored before the commit was let through", len(jobs))
	}

	release()
	for range n - first - size {
		<-handled
	}
	var jobs []mapping.Job
	eventually(t, "every message stored", func() bool {
		jobs, _ = store.Jobs().Pending(context.Background(), "sms", 0, 100)
		return len(jobs) == n
	})
	for i, j := range jobs {
		if want := fmt.Sprintf("text %d", i); j.Body != want || j.StanzaID != fmt.Sprintf("m%d", i) {
			t.Errorf("job %d: %q (%s), want %q (m%d)", i, j.Body, j.StanzaID, want, i)
		}
	}
}

// sessionOutput connects g's link to a session over a pipe and returns a
// function that returns what the session wrote once it has n stanzas.
func sessionOutput(t *testing.T, g *Gateway) func(n int) string {
	t.Helper()
	written := sessionWritten(t, g)
	return func(n int) string {
		t.Helper()
		var got string
		eventually(t, fmt.Sprintf("%d stanzas written to the session", n), func() bool {
			got = written()
			return strings.Count(got, "</message>") >= n
		})
		return got
	}
}

// sessionWritten connects g's link to a session over a pipe and returns
// what the session has written so far.
func sessionWritten(t *testing.T, g *Gateway) func() string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, server := pipeSession(t, ctx, g)
	g.o.Conn.Attach(s)
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := server.Read(buf)
			mu.Lock()
			out.Write(buf[:k])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
}

// When a group's commit fails, every stanza of it is refused with
// wait/resource-constraint, in order, on the session; nothing is queued.
func TestIntakeGroupCommitFailure(t *testing.T) {
	g, tr, store := testGateway(t)
	read := sessionOutput(t, g)
	fail := func(context.Context, []mapping.Job) ([]mapping.Enqueued, error) {
		return nil, fmt.Errorf("%w: disk I/O error", mapping.ErrUnavailable)
	}
	g.in.commit = fail
	entered, release := blockedCommit(g) // the first group waits, then fails
	defer release()
	startIntake(t, g)

	handled := make(chan int, 3)
	readLoop(t, g, []string{intakeMsg("m1", "one"), intakeMsg("m2", "two"), intakeMsg("m3", "three")}, handled)
	first := <-entered
	// The rest gather behind the first group, to fail together.
	eventually(t, "the other stanzas wait in the intake", func() bool { return len(handled) == 3 })
	release()

	const refusal = `<message type="error" id="ID" from="+15551234567@sms.example.test" to="alice@example.test/pc">` +
		`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint>` +
		`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">the gateway cannot store messages right now; try again later</text>` +
		`</error></message>`
	var want string
	for _, id := range []string{"m1", "m2", "m3"} {
		want += strings.Replace(refusal, "ID", id, 1)
	}
	if got := read(3); got != want {
		t.Errorf("refusals (first group of %d stanza(s)):\n%s\nwant\n%s", first, got, want)
	}
	if g.in.waits.Load() != 0 {
		t.Errorf("the read loop waited %d times; the intake had room", g.in.waits.Load())
	}
	if jobs, _ := store.Jobs().Pending(context.Background(), "sms", 0, 10); len(jobs) != 0 || len(tr.Sent()) != 0 {
		t.Errorf("%d jobs queued and %d sent after a failed commit", len(jobs), len(tr.Sent()))
	}
	if len(g.handoff) != 0 {
		t.Errorf("%d jobs handed to the dispatcher after a failed commit", len(g.handoff))
	}
}

// Nothing is acknowledged before its commit: while the commit waits, no
// job reaches the dispatcher (so nothing goes to the provider, and no
// receipt can follow), and the session gets nothing; once committed, the
// jobs go to the dispatcher with their stored ids, in order.
func TestIntakeNothingBeforeCommit(t *testing.T) {
	g, _, store := testGateway(t)
	read := sessionOutput(t, g)
	entered, release := blockedCommit(g)
	defer release()
	startIntake(t, g)

	handled := make(chan int, 2)
	readLoop(t, g, []string{intakeMsg("m1", "one"), intakeMsg("m2", "two")}, handled)
	<-entered
	eventually(t, "the read loop has handed both over", func() bool { return len(handled) == 2 })
	if n := len(g.handoff); n != 0 {
		t.Fatalf("%d jobs reached the dispatcher before their commit", n)
	}
	if jobs, _ := store.Jobs().Pending(context.Background(), "sms", 0, 10); len(jobs) != 0 {
		t.Fatalf("%d jobs stored before the commit", len(jobs))
	}
	release()
	var got []mapping.Job
	for len(got) < 2 {
		got = append(got, <-g.handoff)
	}
	jobs, _ := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs stored, want 2", len(jobs))
	}
	for i, j := range got {
		if j.ID != jobs[i].ID || j.StanzaID != jobs[i].StanzaID || !j.Receipt {
			t.Errorf("handoff %d: id %d %s receipt %v, want the stored job %d %s with its receipt request",
				i, j.ID, j.StanzaID, j.Receipt, jobs[i].ID, jobs[i].StanzaID)
		}
	}
	// A marker that the session stays silent: the next thing it writes is
	// this test's own stanza, not an acknowledgement.
	if err := g.writeNow(context.Background(), [][]byte{[]byte(`<message id="end"></message>`)}); err != nil {
		t.Fatal(err)
	}
	if out := read(1); out != `<message id="end"></message>` {
		t.Errorf("the session wrote %q before the marker", out)
	}
}

// An answer the gateway writes while messages read before it wait for
// their commit (here a ping's result, which a client may take for a sign
// that they were taken) is written after them: after their refusal when
// the commit fails, and not on the read loop.
func TestIntakeAnswersAfterCommits(t *testing.T) {
	g, _, _ := testGateway(t)
	read := sessionOutput(t, g)
	g.in.commit = func(context.Context, []mapping.Job) ([]mapping.Enqueued, error) {
		return nil, fmt.Errorf("%w: disk I/O error", mapping.ErrUnavailable)
	}
	entered, release := blockedCommit(g)
	defer release()
	startIntake(t, g)

	handled := make(chan int, 2)
	ping := `<iq type="get" id="p1" from="alice@example.test/pc" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`
	readLoop(t, g, []string{intakeMsg("m1", "one"), ping}, handled)
	<-entered
	eventually(t, "both stanzas handled", func() bool { return len(handled) == 2 })
	release()
	want := `<message type="error" id="m1" from="+15551234567@sms.example.test" to="alice@example.test/pc">` +
		`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint>` +
		`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">the gateway cannot store messages right now; try again later</text>` +
		`</error></message>` +
		`<iq type="result" id="p1" from="sms.example.test" to="alice@example.test/pc"></iq>`
	got := read(1)
	eventually(t, "the ping's answer", func() bool { got = read(1); return strings.Contains(got, "</iq>") })
	if got != want {
		t.Errorf("written:\n%s\nwant\n%s", got, want)
	}
}

// A failed group's refusals are the only word their senders get that the
// messages were not stored: they wait for a session while the link is
// down, longer than an answer's 5 s (here 6 s), and are written once it
// is back.
func TestIntakeRefusalsWaitForSession(t *testing.T) {
	g, _, _ := testGateway(t)
	committed := make(chan struct{}, 10)
	g.in.commit = func(context.Context, []mapping.Job) ([]mapping.Enqueued, error) {
		committed <- struct{}{}
		return nil, fmt.Errorf("%w: disk I/O error", mapping.ErrUnavailable)
	}
	startIntake(t, g)
	handled := make(chan int, 1)
	readLoop(t, g, []string{intakeMsg("m1", "one")}, handled)
	<-committed
	time.Sleep(intakeReplyFor + time.Second) // no session meanwhile
	read := sessionOutput(t, g)
	if got := read(1); !strings.Contains(got, `id="m1"`) || !strings.Contains(got, "<resource-constraint") {
		t.Errorf("after the link came back the session wrote %q, want m1's refusal", got)
	}
}

// The wait for a session to write refusals ends soon after shutdown
// begins: the intake's goroutine returns with no session ever up.
func TestIntakeRefusalsWaitEndsAtShutdown(t *testing.T) {
	g, _, _ := testGateway(t)
	committed := make(chan struct{}, 10)
	g.in.commit = func(context.Context, []mapping.Job) ([]mapping.Enqueued, error) {
		committed <- struct{}{}
		return nil, fmt.Errorf("%w: disk I/O error", mapping.ErrUnavailable)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.in.running.Store(true)
	go g.intakeLoop(ctx)
	handled := make(chan int, 1)
	readLoop(t, g, []string{intakeMsg("m1", "one")}, handled)
	<-committed
	cancel()
	g.stopIntake()
	select {
	case <-g.in.stopped:
	case <-time.After(refusalsFor / 2):
		t.Fatal("the intake still waits to write refusals after shutdown began")
	}
}

// The link breaks while the read loop waits for room in a full intake and
// the store fails: the session cannot end (nor a new one start) until the
// read loop returns from its handler, so the intake must not wait for a
// session to write its refusals. It moves on, and the refusals are written
// on the next session.
func TestIntakeRefusalsDoNotHoldUpTheReadLoop(t *testing.T) {
	g, _, store := testGateway(t)
	g.in = newIntake(store, 1) // a full intake with few stanzas
	g.in.commit = func(context.Context, []mapping.Job) ([]mapping.Enqueued, error) {
		time.Sleep(20 * time.Millisecond)
		return nil, fmt.Errorf("%w: database is locked", mapping.ErrUnavailable)
	}
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	s, server := pipeSession(t, sctx, g)
	g.o.Conn.Attach(s) // the session, as serveOnce sets it while Serve runs
	startIntake(t, g)

	handled := make(chan int, 10)
	var msgs []string
	for i := range 8 {
		msgs = append(msgs, intakeMsg(fmt.Sprintf("m%d", i), "hi"))
	}
	readLoop(t, g, msgs, handled)
	server.Close() // the XMPP server goes away: every write on s now fails
	eventually(t, "the read loop handed every stanza over", func() bool { return len(handled) == len(msgs) })

	read := sessionOutput(t, g) // the next session
	got := read(len(msgs))
	for _, m := range msgs {
		id := m[strings.Index(m, `id="`):]
		id = id[:strings.Index(id[4:], `"`)+5]
		if strings.Count(got, `<message type="error" `+id) != 1 {
			t.Errorf("the next session got %s's refusal %d times, want once:\n%s", id, strings.Count(got, `<message type="error" `+id), got)
		}
	}
}

// A batch of refusals dropped over the bound while it was being written
// is not mistaken for the next one: that one stays, to be written.
func TestRefusalsDropWhileWriting(t *testing.T) {
	r := newRefusals()
	batch := func(tag string) [][]byte {
		s := make([][]byte, 256)
		for i := range s {
			s[i] = []byte(fmt.Sprintf("<%s n='%d'/>", tag, i))
		}
		return s
	}
	r.add(batch("b1"), nil)
	b1, _, _ := r.first() // being written
	for i := 2; i <= 17; i++ {
		r.add(batch(fmt.Sprintf("b%d", i)), nil) // past maxRefusals: b1 is dropped
	}
	r.done(b1.id, true, nil)
	next, ok, dropped := r.first()
	if !ok || string(next.stanzas[0]) != "<b2 n='0'/>" || dropped != 256 {
		t.Errorf("after b1 was written: next %v %q, dropped %d; want b2 next, b1's 256 dropped", ok, next.stanzas[0], dropped)
	}
}

// A stanza handed to the intake as it stops (the read loop has ended, a
// step hands over what it read before) is committed: the intake's last
// commits wait for a hand-over that found it running, and none is left
// unread in its queue.
func TestIntakeHandOverAsItStops(t *testing.T) {
	g, _, store := testGateway(t)
	checked, release := make(chan struct{}), make(chan struct{})
	g.in.checked = func() { close(checked); <-release }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.in.running.Store(true)
	go g.intakeLoop(ctx)
	handled := make(chan int, 1)
	readLoop(t, g, []string{intakeMsg("m1", "one")}, handled)
	<-checked // the intake runs: the stanza is being handed over
	g.stopIntake()
	eventually(t, "the intake no longer takes hand-overs", func() bool { return !g.in.running.Load() })
	close(release)
	<-handled
	<-g.in.stopped
	jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].StanzaID != "m1" || g.in.pending.Load() != 0 {
		t.Errorf("handed over as the intake stopped: %d jobs stored, %d items not done with; want m1 stored", len(jobs), g.in.pending.Load())
	}
}
