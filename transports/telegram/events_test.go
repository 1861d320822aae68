package telegram

import (
	"testing"
)

// Each update is an event of its own, delivered once: a contact's two
// edits of a message, or two changes of its reactions, within one second
// (the unit of Telegram's dates), are two events, not one taken twice.
func TestEventIDsPerUpdate(t *testing.T) {
	tr, fake := newTest(t, ModePolling, &memKV{})
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)

	m := fake.UserSends(dm, alice, "hi")
	fake.UserEdits(dm, alice, m.MessageID, "hi!")
	fake.UserEdits(dm, alice, m.MessageID, "hi!!")
	sink.waitInbound(t, 3) // polling has asked for reactions by now
	fake.UserReacts(dm, alice, m.MessageID, "👍")
	fake.UserReacts(dm, alice, m.MessageID)
	fake.UserReacts(dm, alice, m.MessageID, "👍")
	got := sink.waitInbound(t, 6)
	seen := map[string]bool{}
	for _, in := range got {
		if seen[in.ID] {
			t.Errorf("two events share the id %s: %+v", in.ID, got)
		}
		seen[in.ID] = true
	}
	if got[2].Body != "hi!!" || got[5].ReactTo != got[0].ID || len(got[5].Reactions) != 1 {
		t.Errorf("the last edit and reaction: %+v, %+v", got[2], got[5])
	}
}
