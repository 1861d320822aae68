package telegramuser

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"xmppgw/internal/fake/tguserfake"
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
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	editor := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Editor"})
	ch := e.mt.AddChannel("Quiet news", false, editor.ID, me.ID)
	first := e.mt.Post(editor.ID, tguserfake.Peer{Channel: ch}, "first post, long ago", 0)
	var w tguserfake.User
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

	e.mt.Post(editor.ID, tguserfake.Peer{Channel: ch}, "posted while the gateway was down", 0)

	sink := &transporttest.Sink{}
	tr, stop = e.run(t, ctx, sink) // ...and back
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
