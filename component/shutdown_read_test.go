package component

import (
	"context"
	"testing"
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
