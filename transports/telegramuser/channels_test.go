package telegramuser

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// A channel with no stored state (it was beyond the last 100 dialogs when
// the user signed in, and quiet since) whose posts come while the gateway
// is down: at the restart it is among the last dialogs again, and its
// posts since the gateway last read are relayed, not skipped by taking
// the channel's state now; what came before the sign-in is not.
func TestQuietChannelPostsWhileDownAreRelayed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e, _, _, _ := quietChannelPostedWhileDown(t, ctx)
	sink := &transporttest.Sink{}
	tr, stop := e.run(t, ctx, sink) // ...and back
	defer stop()
	waitSignedIn(t, ctx, tr, testUser)
	waitFor(t, ctx, "a channel post made while the gateway was down was never relayed", func() bool {
		_, ok := relayed(sink, "posted while the gateway was down")
		return ok
	})
	if _, ok := relayed(sink, "first post, long ago"); ok {
		t.Error("a post from before the sign-in was relayed")
	}
}

// quietChannelPostedWhileDown signs testUser (me) in, with a channel
// beyond the last 100 dialogs and quiet since, stops the gateway, and
// posts in the channel ("posted while the gateway was down", at posted).
// w is one of me's contacts.
func quietChannelPostedWhileDown(t *testing.T, ctx context.Context) (e *fakeEnv, me, w tguserfake.User, posted time.Time) {
	t.Helper()
	e = newFakeEnv(t, ctx)
	me = e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	editor := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Editor"})
	ch := e.mt.AddChannel("Quiet news", false, editor.ID, me.ID)
	first := e.mt.Post(editor.ID, tguserfake.Peer{Channel: ch}, "first post, long ago", 0)
	for i := range 105 { // newer chats push the channel past the first 100
		w = e.mt.AddUser(tguserfake.User{Phone: "+1555004" + strconv.Itoa(1000+i), FirstName: "W" + strconv.Itoa(i)})
		e.mt.Post(w.ID, tguserfake.Peer{User: me.ID}, "hi "+strconv.Itoa(i), 0)
	}
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	signInAt(t, tr, e.mt, "+15550001111")
	// Dates are in seconds: the gateway last reads in a later second than
	// the first post's.
	waitFor(t, ctx, "the clock stopped", func() bool { return time.Now().Unix() > first.Date.Unix() })
	e.mt.Post(w.ID, tguserfake.Peer{User: me.ID}, "one more", 0)
	waitFor(t, ctx, "the follower never read again", func() bool {
		var st syncState
		json.Unmarshal([]byte(mustGet(e.kv, keyState(testUser))), &st)
		return int64(st.Date) > first.Date.Unix()
	})
	stop() // the gateway is down...
	m := e.mt.Post(editor.ID, tguserfake.Peer{Channel: ch}, "posted while the gateway was down", 0)
	return e, me, w, m.Date
}

// A FLOOD_WAIT on the history read that relays a resumed session's missed
// channel posts holds up nothing else and restarts nothing: the session
// is up (and reads the account's other chats) while it waits, and the
// posts are relayed after the wait, or, after a restart during it, at the
// next resume (from when the gateway last read before the first).
func TestFloodWaitOnMissedChannelPostsDefersOnlyThem(t *testing.T) {
	for _, c := range []struct {
		name  string
		wait  int
		after bool // wait for the posts (a wait within the test's time)
	}{
		{"short", 10, true},
		{"longer than the middleware waits", int(maxFloodWait/time.Second) + 100, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			e, me, w, posted := quietChannelPostedWhileDown(t, ctx)
			e.mt.FloodWait(tg.MessagesGetHistoryRequestTypeID, c.wait, 1)
			var restarts atomic.Int64
			log := slog.New(countHandler{"Telegram session failed; restarting": &restarts})
			tr, err := New(transports.Params{Name: "tg", Domain: "tg.example.test", MediaURL: "https://gw.example.test/media/tg", State: e.kv, Logger: log}, e.s)
			if err != nil {
				t.Fatal(err)
			}
			sink := &transporttest.Sink{}
			rctx, rstop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); tr.Run(rctx, sink) }()
			defer func() { rstop(); <-done }()
			waitFor(t, ctx, "the session never came up", func() bool { a := tr.account(testUser); return a != nil && a.up.Load() })
			e.mt.Post(w.ID, tguserfake.Peer{User: me.ID}, "while the history waits", 0)
			waitFor(t, ctx, "a contact's message was never relayed", func() bool { _, ok := relayed(sink, "while the history waits"); return ok })
			if _, ok := relayed(sink, "posted while the gateway was down"); ok {
				t.Error("the session came up (and read its other chats) only after the history read's FLOOD_WAIT")
			}
			if n := restarts.Load(); n > 0 {
				t.Errorf("a FLOOD_WAIT on the history read restarted the session %d times", n)
			}
			if !c.after {
				// Restarted during the wait, once the follower has read
				// past the post's second.
				waitFor(t, ctx, "the clock stopped", func() bool { return time.Now().Unix() > posted.Unix() })
				e.mt.Post(w.ID, tguserfake.Peer{User: me.ID}, "one more", 0)
				waitFor(t, ctx, "the follower never read again", func() bool {
					var st syncState
					json.Unmarshal([]byte(mustGet(e.kv, keyState(testUser))), &st)
					return int64(st.Date) > posted.Unix()
				})
				rstop()
				<-done
				var stop func()
				_, stop = e.run(t, ctx, sink)
				defer stop()
			}
			waitFor(t, ctx, "the missed channel post was never relayed", func() bool {
				_, ok := relayed(sink, "posted while the gateway was down")
				return ok
			})
		})
	}
}

// An UpdateChannelTooLong in a difference marks its channel to be read.
func TestChannelTooLongInDifferenceMarksChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, a := offlineAccount(t, ctx)
	if err := a.handle(ctx, nil, []tg.UpdateClass{&tg.UpdateChannelTooLong{ChannelID: 1500000009}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.marks.take()[1500000009]; !ok {
		t.Error("the channel named by UpdateChannelTooLong is not marked to be read")
	}
}

// Telegram orders dialogs by the later of their top message's date and
// their draft's (TDLib's dialog order does the same): a chat with an old
// top message and a draft saved while the gateway was down sorts above a
// channel posted in before the draft. The resume's scan of the dialogs
// reads on past it, and relays the channel's post.
func TestResumeScanReadsPastAChatWithAFreshDraft(t *testing.T) {
	for _, draftOnTop := range []bool{false, true} {
		t.Run("draftOnTop="+map[bool]string{false: "no (control)", true: "yes"}[draftOnTop], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sink := &transporttest.Sink{}
			now := int(time.Now().Unix())
			since := now - 3600 // the gateway last read an hour ago
			const chID, userID = 777, 555
			ch := &tg.Channel{ID: chID, AccessHash: 42, Title: "News", Photo: &tg.ChatPhotoEmpty{}}
			old := &tg.Message{ID: 10, PeerID: &tg.PeerUser{UserID: userID}, FromID: &tg.PeerUser{UserID: userID}, Date: since - 86400, Message: "old"}
			post := &tg.Message{ID: 5, PeerID: &tg.PeerChannel{ChannelID: chID}, Date: now - 600, Message: "posted while the gateway was down", Post: true}
			u := &tg.User{ID: userID, AccessHash: 9, FirstName: "Dora"}
			u.SetFirstName("Dora")
			u.SetAccessHash(9)
			a := scriptedAccount(t, ctx, sink, func(input bin.Encoder) bin.Encoder {
				switch r := input.(type) {
				case *tg.MessagesGetDialogsRequest:
					if r.FolderID != 0 {
						return &tg.MessagesDialogs{}
					}
					d1 := &tg.Dialog{Peer: &tg.PeerUser{UserID: userID}, TopMessage: old.ID, NotifySettings: tg.PeerNotifySettings{}}
					d2 := &tg.Dialog{Peer: &tg.PeerChannel{ChannelID: chID}, TopMessage: post.ID, NotifySettings: tg.PeerNotifySettings{}}
					d2.SetPts(20)
					list := []tg.DialogClass{d2, d1} // by top message
					if draftOnTop {
						// A draft saved a minute ago: the chat sorts by it.
						d1.SetDraft(&tg.DraftMessage{Message: "typing…", Date: now - 60})
						list = []tg.DialogClass{d1, d2}
					}
					return &tg.MessagesDialogs{Dialogs: list, Messages: []tg.MessageClass{old, post},
						Chats: []tg.ChatClass{ch}, Users: []tg.UserClass{u}}
				case *tg.MessagesGetHistoryRequest:
					return &tg.MessagesChannelMessages{Pts: 20, Count: 1, Messages: []tg.MessageClass{post}, Chats: []tg.ChatClass{ch}, Users: []tg.UserClass{}, Topics: []tg.ForumTopicClass{}}
				}
				return nil
			})
			if err := a.resumeChannels(ctx, since); err != nil {
				t.Fatal(err)
			}
			if _, ok := relayed(sink, post.Message); !ok {
				t.Errorf("the channel post made while the gateway was down was not relayed")
			}
		})
	}
}
