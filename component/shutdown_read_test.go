package component

import (
	"context"
	"regexp"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// A stanza read while the gateway shuts down (its lifetime ended, the read
// loop still running until the writer is done) is handled as before: a
// message to a linked chat, whose link is looked up in the store, is
// stored for the provider, not refused for the ended lifetime.
func TestStanzaReadAtShutdownIsHandled(t *testing.T) {
	g, _, store := linkedGateway(t)
	life, stop := context.WithCancel(context.Background())
	g.life.Store(&life) // as Run does
	stop()              // SIGTERM
	if out := handle(t, g, `<message type="chat" id="s1" from="alice@example.test/pc" to="+15550002222@tg.example.test"><body>late</body></message>`); out != "" {
		t.Errorf("answered %s", out)
	}
	jobs, err := store.Jobs().Pending(context.Background(), "tg", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Body != "late" {
		t.Errorf("stored %+v, want the message", jobs)
	}
}

// A step (Later, Await) of a stanza read once shutdown has begun works on
// a context that has not ended, as a handler on the read loop does, in
// Run (the intake running) or not.
func TestStepReadAtShutdown(t *testing.T) {
	for i, intake := range []bool{false, true} {
		g, _, _ := testGateway(t)
		life, stop := context.WithCancel(context.Background())
		g.life.Store(&life) // as Run does
		if intake {
			startIntake(t, g)
		}
		stop() // SIGTERM
		live := make(chan bool, 2)
		from := jid.MustParse("alice@example.test/pc")
		g.Await(from, discard{}, func(ctx context.Context, _ router.Writer) { live <- ctx.Err() == nil })
		if err := g.Later(from, discard{}, func(ctx context.Context, _ router.Writer) { live <- ctx.Err() == nil }); err != nil {
			t.Fatal(err)
		}
		if !<-live || !<-live {
			t.Errorf("%d (intake %v): a step's context had ended", i, intake)
		}
		g.bg.Wait()
	}
}

// A "link" command read once shutdown has begun gets its code: its commit
// (a step's) is not refused for the ended lifetime.
func TestLinkCommandReadAtShutdown(t *testing.T) {
	g, _, _ := linkedGateway(t)
	life, stop := context.WithCancel(context.Background())
	g.life.Store(&life) // as Run does
	stop()              // SIGTERM
	code := regexp.MustCompile(`^<message type="chat" from="tg.example.test" to="alice@example.test/pc"><body>Send /link [A-Z0-9]{8} to the bot. The code works once, within 15 minutes.</body></message>$`)
	for i := range 20 { // database/sql notices an ended context only sometimes
		out := handle(t, g, `<message type="chat" id="l1" from="alice@example.test/pc" to="tg.example.test"><body>link</body></message>`)
		if !code.MatchString(out) {
			t.Fatalf("%d: a link command read after SIGTERM got no code, but: %s", i, out)
		}
	}
}
