package component

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// runningRooms runs the real Run of a gateway of linked rooms (alice's
// group +15550003333, "Ops team") against a fake XEP-0114 server, until
// the returned sigterm is called; ran is closed when Run has returned.
func runningRooms(t *testing.T, logs io.Writer) (g *Gateway, srv *fakeServer, path string, sigterm func(), ran chan struct{}) {
	t.Helper()
	return runningRoomsOf(t, logs, roomLinked{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}})
}

// runningRoomsOf is runningRooms with the transport tr.
func runningRoomsOf(t *testing.T, logs io.Writer, tr transports.Transport) (g *Gateway, srv *fakeServer, path string, sigterm func(), ran chan struct{}) {
	t.Helper()
	const domain = "tg.example.test"
	srv = startFakeServer(t, domain)
	path = filepath.Join(t.TempDir(), "gw.db")
	store, err := mapping.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	g = New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Server: srv.addr, Domain: jid.MustParse(domain), Secret: []byte("s3cret"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	if err := store.Links().ImportLinks(context.Background(), "tg",
		[]mapping.Link{{Remote: "+15550003333", User: "alice@example.test", Name: "Ops team"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ran = make(chan struct{})
	go func() { defer close(ran); g.Run(ctx) }()
	eventually(t, "connected", g.Connected)
	return g, srv, path, cancel, ran
}

// holdStoreUntil holds the SQLite file's write lock from another
// connection until release is called (or the test ends).
func holdStoreUntil(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { c.ExecContext(context.Background(), "ROLLBACK"); c.Close() }) }
	t.Cleanup(release)
	return release
}

// SIGTERM comes while steps are in flight in a real Run (a join whose
// nick commit waits for a busy store, and the stanzas of the user's that
// wait for it): the session stays open until they have finished, and
// their answers reach the server, in order. A message among them is
// stored, or refused on the stream; never dropped.
func TestRunWritesStepAnswersAtShutdown(t *testing.T) {
	const (
		join  = `<presence from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
		msg   = `<message type="groupchat" id="u1" from="alice@example.test/pc" to="+15550003333@tg.example.test"><body>on it</body></message>`
		leave = `<presence type="unavailable" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"/>`
	)
	const (
		self    = `<presence from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`
		subject = `<message type="groupchat" from="+15550003333@tg.example.test" to="alice@example.test/pc"><subject>Ops team</subject></message>`
	)
	cases := []struct {
		name    string
		in      []string
		written []string // to the server, in order (the ids the gateway stamps left out)
		jobs    []string
	}{
		0: {name: "a message waits for the join", in: []string{join, msg},
			written: []string{self, subject, `<message type="groupchat" id="u1" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><body>on it</body></message>`},
			jobs:    []string{"on it"}},
		1: {name: "a leave, then a message, wait for the join", in: []string{join, leave, msg},
			written: []string{self, subject,
				`<presence type="unavailable" from="+15550003333@tg.example.test/al" to="alice@example.test/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="none" jid="alice@example.test/pc"></item><status code="100"></status><status code="110"></status></x></presence>`,
				`<message type="error" id="u1" from="+15550003333@tg.example.test" to="alice@example.test/pc"><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></not-acceptable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">join the room before writing to it</text></error></message>`}},
	}
	stamped := regexp.MustCompile(` id="[0-9a-f]{16}"`)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, srv, path, sigterm, ran := runningRooms(t, io.Discard)
			release := holdStoreUntil(t, path) // the join's nick commit waits
			srv.in <- strings.Join(tc.in, "")
			eventually(t, "every stanza read", func() bool { return g.steps() == len(tc.in) })
			sigterm()
			// Past the writer's end (it has nothing to write): the steps
			// are still in flight.
			time.Sleep(200 * time.Millisecond)
			release()
			<-ran
			<-srv.done
			var got []string
			for _, s := range srv.written() {
				got = append(got, stamped.ReplaceAllString(s, ""))
			}
			if !slices.Equal(got, tc.written) {
				t.Errorf("%d: the server got\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(tc.written, "\n"))
			}
			jobs, err := g.o.Store.Jobs().Pending(context.Background(), "tg", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, j := range jobs {
				bodies = append(bodies, j.Body)
			}
			if strings.Join(bodies, "|") != strings.Join(tc.jobs, "|") {
				t.Errorf("%d: stored %q, want %q", i, bodies, tc.jobs)
			}
		})
	}
}

// settle, at shutdown, returns at once when no step is in flight; waits
// for a step in flight to end and its answers to be handed over; and
// gives up on a step that does not end within stepsAtShutdown.
func TestSettle(t *testing.T) {
	cases := []struct {
		name   string
		step   bool // a step is in flight
		stuck  bool // and does not end
		settle bool // settle returns without the clock moving, once the step (if any) ends
	}{
		0: {name: "nothing in flight", settle: true},
		1: {name: "a step that ends", step: true, settle: true},
		2: {name: "a step that does not end", step: true, stuck: true},
	}
	for i, tc := range cases {
		synctest.Test(t, func(t *testing.T) {
			g, _, _ := testGateway(t)
			ctx, cancel := context.WithCancel(context.Background())
			g.in.running.Store(true)
			go g.intakeLoop(ctx)
			release := make(chan struct{})
			if tc.step {
				g.Later(jid.MustParse("alice@example.test/pc"), discard{}, func(context.Context, router.Writer) { <-release })
			}
			began := time.Now()
			settled := make(chan struct{})
			go func() { defer close(settled); g.settle(context.Background()) }()
			synctest.Wait()
			if !tc.stuck {
				close(release)
			}
			synctest.Wait()
			select {
			case <-settled:
				if !tc.settle || time.Since(began) != 0 {
					t.Errorf("%d %s: settled after %v", i, tc.name, time.Since(began))
				}
			default:
				if tc.settle {
					t.Errorf("%d %s: settle still waits", i, tc.name)
				}
				time.Sleep(stepsAtShutdown)
				synctest.Wait()
				select {
				case <-settled:
				default:
					t.Errorf("%d %s: settle still waits past stepsAtShutdown", i, tc.name)
				}
				close(release)
			}
			g.bg.Wait()
			g.stopIntake()
			<-g.in.stopped
			cancel()
		})
	}
}

// At shutdown, a stanza read while settle waits for its marker (behind
// messages whose commit is slow) begins a step that answers at once, and
// ends before the marker is written: its answer is behind the marker in
// the intake. settle waits for it too, and returns (Run then closes the
// session) only once it is written.
func TestSettleWaitsForAStepBegunMeanwhile(t *testing.T) {
	g, _, _ := testGateway(t)
	read := sessionWritten(t, g)
	entered := make(chan chan struct{}, 10)
	g.in.commit = func(ctx context.Context, jobs []mapping.Job) ([]mapping.Enqueued, error) {
		gate := make(chan struct{})
		entered <- gate
		<-gate
		res := make([]mapping.Enqueued, len(jobs))
		for i := range res {
			res[i].Dup = true // taken as resends: nothing to dispatch
		}
		return res, nil
	}
	startIntake(t, g)
	item := func(id string) *intakeItem {
		return &intakeItem{t: discard{}, user: "bob@example.test",
			jobs: []mapping.Job{{Transport: "tg", Sender: "bob@example.test", Remote: "+15557654321", Body: id, StanzaID: id}}}
	}
	next := func() chan struct{} {
		select {
		case gate := <-entered:
			return gate
		case <-time.After(10 * time.Second):
			t.Fatal("no commit")
			return nil
		}
	}
	// Messages read before SIGTERM are being committed (a busy store).
	g.submit(item("x"))
	gateX := next()
	g.submit(item("y"))
	settled := make(chan struct{})
	go func() { defer close(settled); g.settle(context.Background()) }()
	isSettled := func() bool {
		select {
		case <-settled:
			return true
		default:
			return false
		}
	}
	eventually(t, "the marker handed over", func() bool { return g.in.pending.Load() == 3 })
	close(gateX)
	gateY := next() // the group [y, marker] is being committed
	// A stanza read meanwhile begins a step, which answers at once.
	if err := g.Later(jid.MustParse("alice@example.test/pc"), discard{}, func(_ context.Context, w router.Writer) {
		w.Encode(message{Type: "chat", ID: "step-answer", From: "tg.example.test", To: "alice@example.test/pc", Body: "your code"})
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the step ended", func() bool { return laterSteps(g) == 0 && g.in.pending.Load() == 3 })
	g.submit(item("w")) // read after it
	close(gateY)
	gateW := next() // the group [the step's answer, w] is being committed
	// settle has returned, or handed over a marker behind them.
	eventually(t, "settle returned or waits", func() bool { return isSettled() || g.in.pending.Load() == 3 })
	if isSettled() {
		t.Error("settle returned (Run closes the session) while the answer of a step begun meanwhile waits to be written")
	}
	close(gateW)
	eventually(t, "settled", isSettled)
	eventually(t, "the step's answer written", func() bool { return strings.Contains(read(), `id="step-answer"`) })
}

// A step that ends once the session has ended for good (the intake has
// stopped: shutdown) has its answers counted and logged, not dropped
// silently.
func TestStepAnswersAfterTheSession(t *testing.T) {
	g, _, _ := testGateway(t)
	var logs bytes.Buffer
	g.log = slog.New(slog.NewTextHandler(&logs, nil))
	g.in.running.Store(true)
	go g.intakeLoop(context.Background())
	release := make(chan struct{})
	err := g.Later(jid.MustParse("alice@example.test/pc"), discard{}, func(_ context.Context, w router.Writer) {
		<-release
		w.Encode(message{Type: "chat", ID: "c1", From: "tg.example.test", To: "alice@example.test/pc", Body: "one"})
		w.Encode(message{Type: "chat", ID: "c2", From: "tg.example.test", To: "alice@example.test/pc", Body: "two"})
	})
	if err != nil {
		t.Fatal(err)
	}
	g.stopIntake()
	<-g.in.stopped
	close(release)
	g.bg.Wait()
	if n := g.Stats.Unwritten.Load(); n != 2 || !strings.Contains(logs.String(), `level=WARN msg="answers not written: the XMPP session has ended" stanzas=2`) {
		t.Errorf("counted %d unwritten, logged %q; want 2, and a warning", n, logs.String())
	}
}
