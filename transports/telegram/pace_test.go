package telegram

import (
	"testing"

	"xmppgw/transports"
)

// Paced at Telegram's limits, the bot never sees a 429 from a server that
// enforces them: here one message a second to a chat, 3 in a row.
func TestPacingAvoidsFloodControl(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	tr.pace = newPacer(RateLimits{ChatPerSecond: 1, GroupPerMinute: 20, TotalPerSecond: 30})
	fake.AddChat(dm)
	fake.SetRateLimit(1)
	ctx := testCtx(t)
	for i := range 3 {
		out := transports.Outbound{To: "111", Body: "tick", ID: string(rune('a' + i))}
		if err := tr.Pace(ctx, out); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Send(ctx, out); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := fake.Count429(); n != 0 {
		t.Errorf("%d answers were 429", n)
	}
	if n := len(fake.SentTo(111)); n != 3 {
		t.Errorf("%d sent, want 3", n)
	}
}
