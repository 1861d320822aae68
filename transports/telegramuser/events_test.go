package telegramuser

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
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
// 👍 again; 👍, 👍❤, 👍 again), and two edits within one second (the unit
// of Telegram's dates), are not taken for events already passed on. An
// update that leaves the contacts' set as it was passed on last (the
// user's own reaction changed) is not passed on.
func TestEventIDs(t *testing.T) {
	sink := &idSink{}
	tr := &Transport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), p: transports.Params{State: &transporttest.KV{}}}
	tr.run.Store(&runState{ctx: context.Background(), sink: sink})
	a := &account{t: tr}
	a.self.Store(1000)
	ctx := context.Background()
	react := func(rs ...tg.MessagePeerReaction) {
		u := &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: 7}, MsgID: 5, Reactions: tg.MessageReactions{RecentReactions: rs}}
		if err := a.reacted(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	by := func(user int64, date int, e string) tg.MessagePeerReaction {
		return tg.MessagePeerReaction{PeerID: &tg.PeerUser{UserID: user}, Date: date, Reaction: &tg.ReactionEmoji{Emoticon: e}}
	}
	edit := func(date int, text string) {
		m := &tg.Message{ID: 5, PeerID: &tg.PeerUser{UserID: 7}, Message: text, Date: 90, EditDate: date}
		if err := a.deliver(ctx, m, true); err != nil {
			t.Fatal(err)
		}
	}
	react(by(7, 100, "👍"))                     // 0
	react(by(7, 100, "👍"), by(1000, 101, "🎉")) // the user's own: not passed on
	react()                                    // 1: taken back
	react(by(7, 103, "👍"))                     // 2: given again
	react(by(7, 103, "👍"), by(8, 105, "❤"))    // 3
	react(by(7, 103, "👍"))                     // 4: back to 👍
	edit(110, "hi!")                           // 5
	edit(110, "hi!")                           // 6: read again
	edit(110, "hi!!")                          // 7
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
	for i := range 5 {
		for j := i + 1; j < 5; j++ {
			same(i, j, false)
		}
	}
	same(5, 6, true)
	same(5, 7, false)
}
