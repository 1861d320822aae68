package telegramuser

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// idSink records the ids of the events delivered.
type idSink struct {
	transports.Sink
	ids []string
}

func (s *idSink) Deliver(_ context.Context, in transports.Inbound) error {
	s.ids = append(s.ids, in.ID)
	return nil
}

// Each change is an event of its own, and one read again is the same
// event: a contact's reactions that come back to an earlier set (👍, none,
// 👍 again), and two edits within one second (the unit of Telegram's
// dates), are not taken for events already passed on.
func TestEventIDs(t *testing.T) {
	sink := &idSink{}
	tr := &Transport{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tr.run.Store(&runState{ctx: context.Background(), sink: sink})
	a := &account{t: tr}
	a.self.Store(1000)
	ctx := context.Background()
	react := func(date int, emoji ...string) {
		var rr []tg.MessagePeerReaction
		for _, e := range emoji {
			rr = append(rr, tg.MessagePeerReaction{PeerID: &tg.PeerUser{UserID: 7}, Date: date, Reaction: &tg.ReactionEmoji{Emoticon: e}})
		}
		u := &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: 7}, MsgID: 5, Reactions: tg.MessageReactions{RecentReactions: rr}}
		if err := a.reacted(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(date int, text string) {
		m := &tg.Message{ID: 5, PeerID: &tg.PeerUser{UserID: 7}, Message: text, Date: 90, EditDate: date}
		if err := a.deliver(ctx, m, true); err != nil {
			t.Fatal(err)
		}
	}
	react(100, "👍")
	react(100, "👍") // read again
	react(0)        // taken back
	react(0)        // and again (a removal repeated changes nothing)
	react(103, "👍") // given again
	edit(110, "hi!")
	edit(110, "hi!") // read again
	edit(110, "hi!!")
	ids := sink.ids
	if len(ids) != 8 {
		t.Fatalf("ids: %q", ids)
	}
	same := func(i, j int, want bool) {
		t.Helper()
		if (ids[i] == ids[j]) != want {
			t.Errorf("ids %d and %d (%s, %s): same %v, want %v", i, j, ids[i], ids[j], ids[i] == ids[j], want)
		}
	}
	same(0, 1, true)
	same(2, 3, false)
	same(0, 4, false)
	same(5, 6, true)
	same(5, 7, false)
}
