package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// Updates become Inbound messages: names, group prefixes, edits, media and
// kinds with no text.
func TestPollingUpdates(t *testing.T) {
	kv := &memKV{}
	tr, fake := newTest(t, ModePolling, kv)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	sink.linked["-1001234"] = "alice@example.test"
	run(t, tr, sink)

	m1 := fake.UserSends(dm, alice, "hi there")
	fake.UserSends(group, bob, "line one\nline two")
	fake.UserEdits(dm, alice, m1.MessageID, "hi there!")
	photo := fake.UserSendsPhoto(dm, alice, "look", []byte("JPEGDATA"))
	fake.UserSendsVoice(dm, alice, []byte("OGGDATA"))
	got := sink.waitInbound(t, 5)

	want := []transports.Inbound{
		{From: "111", ID: "111:1", Body: "hi there", Name: "Alice A"},
		{From: "-1001234", ID: "-1001234:1", Body: "line one\nline two", Name: "Ops", Group: true, Sender: "Bob", SenderID: "222"},
		{From: "111", ID: "111:1:e", Body: "hi there!", Name: "Alice A", Replaces: "111:1"},
		{From: "111", ID: "111:2", Body: "look", Name: "Alice A"},
		{From: "111", ID: "111:3", Body: "", Name: "Alice A"},
	}
	for i := range want {
		g := got[i]
		if i == 2 {
			g.ID = g.ID[:strings.LastIndex(g.ID, ":e")+2] // the update id varies
		}
		media := g.Media
		g.Time, g.Media = want[i].Time, nil
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("%d: got %+v\nwant %+v", i, g, want[i])
		}
		if (i >= 3) != (len(media) == 1) {
			t.Errorf("%d: media %q", i, media)
		}
	}
	// The media URL is the gateway's, signed, and serves the bytes.
	url := got[3].Media[0]
	if !strings.HasPrefix(url, "https://gw.example.test/media/telegram/") || strings.Contains(url, testToken) {
		t.Fatalf("media URL %q", url)
	}
	srv := httptest.NewServer(http.StripPrefix("/media/telegram", tr.Media()))
	defer srv.Close()
	local := srv.URL + strings.TrimPrefix(url, "https://gw.example.test")
	for _, c := range []struct {
		url    string
		status int
		body   string
	}{
		{local, 200, "JPEGDATA"},
		{strings.Replace(local, "/media/telegram/", "/media/telegram/x", 1), 404, ""},
		{srv.URL + "/media/telegram/" + tr.sign("nope") + "/nope/a.jpg", 404, ""},
	} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.body != "" && string(b) != c.body) {
			t.Errorf("GET %s: %d %q", c.url, resp.StatusCode, b)
		}
	}
	_ = photo

	// The offset is kept past every handled update: once stored, the next
	// poll asks from there.
	if err := fake.WaitFor(testCtx(t), func() bool { return slices.Contains(fake.Offsets(), 6) }); err != nil {
		t.Fatalf("no poll from offset 6: %v (offsets %v)", err, fake.Offsets())
	}
	if v, _ := kv.Get(context.Background(), offsetKey); v != "6" {
		t.Errorf("stored offset %q, want 6", v)
	}
}

// A restart resumes from the stored offset: nothing lost, nothing repeated.
func TestPollingRestart(t *testing.T) {
	kv := &memKV{}
	tr, fake := newTest(t, ModePolling, kv)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	stop := run(t, tr, sink)
	fake.UserSends(dm, alice, "one")
	sink.waitInbound(t, 1)
	stop()
	fake.UserSends(dm, alice, "two") // while stopped

	tr2, _ := newTestWith(t, fake, kv)
	sink2 := newSink()
	sink2.linked["111"] = "alice@example.test"
	run(t, tr2, sink2)
	fake.UserSends(dm, alice, "three")
	got := sink2.waitInbound(t, 2)
	if len(got) != 2 || got[0].Body != "two" || got[1].Body != "three" {
		t.Errorf("after restart got %+v, want two, three", got)
	}
}

// A store failure stops the offset: the update is handled again later.
func TestPollingRetriesUnstored(t *testing.T) {
	kv := &memKV{}
	tr, fake := newTest(t, ModePolling, kv)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	sink.deliverErr = errors.New("store down")
	run(t, tr, sink)
	fake.UserSends(dm, alice, "kept")
	ctx := testCtx(t)
	fake.WaitFor(ctx, func() bool { return fake.Calls("getUpdates") >= 2 })
	if v, _ := kv.Get(context.Background(), offsetKey); v != "" {
		t.Fatalf("offset advanced to %q past an unstored update", v)
	}
	sink.mu.Lock()
	sink.deliverErr = nil
	sink.mu.Unlock()
	if got := sink.waitInbound(t, 1); got[0].Body != "kept" {
		t.Errorf("got %+v", got)
	}
}

// /link and /unlink go to the sink and are answered in the chat; an
// unlinked chat is told how to link, once.
func TestCommands(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.codes["ABCD2345"] = "alice@example.test"
	run(t, tr, sink)
	ctx := testCtx(t)

	steps := []struct{ send, reply string }{
		{"hello?", "This chat is not linked to anyone on XMPP"},
		{"still there?", ""}, // told once only
		{"/link WRONG", "Not linked: bad code"},
		{"/link@xmppgw_test_bot ABCD2345", "Linked: messages in this chat now reach alice@example.test over XMPP, as 111@telegram.example.test."},
		{"/unlink", "Unlinked: messages in this chat no longer reach alice@example.test."},
		{"/start", "This bot bridges Telegram chats to XMPP."},
		{"/link@otherbot X", ""}, // not for us: an ordinary (unlinked) message
	}
	for _, st := range steps {
		// Counted before the message: its answer may come at once.
		before, sent := len(fake.SentTo(111)), len(fake.Sent())
		fake.UserSends(dm, alice, st.send)
		if st.reply == "" {
			// Wait until the update was consumed, then check nothing was said.
			fake.WaitFor(ctx, func() bool { return fake.Pending() == 0 && fake.Calls("getUpdates") > 0 })
			fake.UserSends(dm, alice, "/start") // a marker that always gets an answer
			msgs, err := fake.WaitSent(ctx, sent+1)
			if err != nil {
				t.Fatal(err)
			}
			if last := msgs[len(msgs)-1]; !strings.HasPrefix(last.Text, "This bot bridges") || len(fake.SentTo(111)) != before+1 {
				t.Errorf("%q was answered: %q", st.send, fake.SentTo(111)[before].Text)
			}
			continue
		}
		msgs, err := fake.WaitSent(ctx, sent+1)
		if err != nil {
			t.Fatalf("%q: %v", st.send, err)
		}
		if last := msgs[len(msgs)-1].Text; !strings.HasPrefix(last, st.reply) {
			t.Errorf("%q answered %q, want %q...", st.send, last, st.reply)
		}
	}
	if len(sink.got()) != 0 {
		t.Errorf("commands were relayed: %+v", sink.got())
	}
}

// Inbound.ReactTo and ReplyTo must name a message the core knows: an
// Inbound.ID, or an id Send returned. A long text sent from XMPP has the
// remote id "111:1,2"; a reply or a reaction to any of its parts refers to
// that id, not to the part ("111:2"), which the core could not tie to the
// XMPP message.
func TestReplyAndReactionToPartOfLongMessage(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	ctx := testCtx(t)
	long := strings.Repeat("x", maxText) + " tail"
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long, ID: "1"})
	if err != nil || id != "111:1,2" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	run(t, tr, sink)
	// (the reply first: the fake takes reactions once a poll asked for them)
	fake.UserReplies(dm, alice, "nice", fake.SentTo(111)[1])
	sink.waitInbound(t, 1)
	fake.UserReacts(dm, alice, 2, "👍")
	fake.UserReacts(dm, alice, 1, "🎉")
	got := sink.waitInbound(t, 3)
	if got[0].ReplyTo != id {
		t.Errorf("reply to part 2 of %q arrives with ReplyTo %q: no message of the core has that id", id, got[0].ReplyTo)
	}
	for _, in := range got[1:] {
		if in.ReactTo != id {
			t.Errorf("reaction %q to a part of %q arrives with ReactTo %q: no message of the core has that id", in.Reactions, id, in.ReactTo)
		}
	}
	// The user's own message (3) is its own.
	fake.UserReplies(dm, alice, "and this", fake.SentTo(111)[0])
	if got := sink.waitInbound(t, 4); got[3].ReplyTo != id {
		t.Errorf("reply to part 1 arrives with ReplyTo %q, want %q", got[3].ReplyTo, id)
	}
	reply := got[0]
	fake.UserReacts(dm, alice, 3, "👀")
	if got := sink.waitInbound(t, 5); got[4].ReactTo != reply.ID {
		t.Errorf("reaction to the user's own message %s arrives with ReactTo %q", reply.ID, got[4].ReactTo)
	}
}

// A correction that grew into more messages is known by the correction's
// id; a reaction to a message it added refers to that id, and a reaction to
// the original's message keeps the original's id.
func TestReactionToPartAddedByCorrection(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "short", ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	corr, err := tr.Send(ctx, transports.Outbound{To: "111", Body: strings.Repeat("x", maxText) + " tail", ID: "2", Replaces: id})
	if err != nil || corr != "111:1,2" {
		t.Fatalf("correction = %q, %v", corr, err)
	}
	run(t, tr, sink)
	fake.UserReplies(dm, alice, "nice", fake.SentTo(111)[1])
	fake.UserReplies(dm, alice, "and", fake.SentTo(111)[0])
	got := sink.waitInbound(t, 2)
	if got[0].ReplyTo != corr || got[1].ReplyTo != id {
		t.Errorf("replies to the added part and the original: ReplyTo %q and %q, want %q and %q", got[0].ReplyTo, got[1].ReplyTo, corr, id)
	}
}

// failingKV is a state whose writes fail while failing is set.
type failingKV struct {
	memKV
	failing atomic.Bool
}

func (k *failingKV) SetUntil(ctx context.Context, key, value string, expires time.Time) error {
	if k.failing.Load() {
		return errTest
	}
	return k.memKV.SetUntil(ctx, key, value, expires)
}

// When the parts of a long message cannot be recorded, the send fails for
// now, and its retry records them without sending anything again.
func TestPartsNotRecordedRetried(t *testing.T) {
	kv := &failingKV{}
	tr, fake := newTest(t, ModePolling, kv)
	fake.AddChat(dm)
	ctx := testCtx(t)
	out := transports.Outbound{To: "111", Body: strings.Repeat("x", maxText) + " tail", ID: "1"}
	kv.failing.Store(true)
	_, err := tr.Send(ctx, out)
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Fatalf("Send with the state down: %v, want a temporary error", err)
	}
	kv.failing.Store(false)
	id, err := tr.Send(ctx, out)
	if err != nil || id != "111:1,2" {
		t.Fatalf("retry = %q, %v", id, err)
	}
	if n := len(fake.SentTo(111)); n != 2 {
		t.Errorf("the chat holds %d messages, want the 2 parts once", n)
	}
	if whole, _ := tr.wholeOf(ctx, "111:2"); whole != id {
		t.Errorf("part 2 is known as %q, want %q", whole, id)
	}
}

// A photo sent without a caption arrives as an Inbound with Media and no
// Body, which the core renders as one stanza, the file's URL. When the
// Telegram user then adds a caption, the edit (a correction of that
// stanza, which replaces the whole message) carries the photo too, so the
// photo does not turn into the caption alone.
func TestCaptionAddedToPhotoKeepsPhoto(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	m := fake.UserSendsPhoto(dm, alice, "", []byte("\xff\xd8\xff\xe0 a photo"))
	got := sink.waitInbound(t, 1)
	if got[0].Body != "" || len(got[0].Media) != 1 {
		t.Fatalf("photo: %+v", got[0])
	}
	fake.UserEdits(dm, alice, m.MessageID, "the view from the office")
	got = sink.waitInbound(t, 2)
	edit := got[1]
	if edit.Replaces != got[0].ID || edit.Body != "the view from the office" {
		t.Fatalf("edit: %+v", edit)
	}
	if len(edit.Media) != 1 || !strings.Contains(edit.Media[0], "/photo.jpg") {
		t.Errorf("the caption added to photo %s arrives as a correction %q with media %q, want the photo's URL", got[0].ID, edit.Body, edit.Media)
	}
	// An edit of a text has none.
	txt := fake.UserSends(dm, alice, "hello")
	sink.waitInbound(t, 3)
	fake.UserEdits(dm, alice, txt.MessageID, "hello!")
	if got := sink.waitInbound(t, 4); len(got[3].Media) != 0 || got[3].Body != "hello!" {
		t.Errorf("edited text: %+v", got[3])
	}
}

// wrappingSink wraps Deliver's errors, as a sink may.
type wrappingSink struct{ *recSink }

func (s wrappingSink) Deliver(ctx context.Context, in transports.Inbound) error {
	if err := s.recSink.Deliver(ctx, in); err != nil {
		return fmt.Errorf("delivering %s: %w", in.ID, err)
	}
	return nil
}

// A reaction in a chat linked to nobody is done with, even when the sink
// wraps ErrNoRecipient: retrying it would not help.
func TestReactionInUnlinkedChatWrappedError(t *testing.T) {
	tr, _ := newTest(t, ModePolling, nil)
	sink := wrappingSink{newSink()} // 111 is linked to nobody
	err := tr.handleReaction(testCtx(t), sink, 7, &messageReaction{Chat: tgbotapi.Chat{ID: 111, Type: "private"}, MessageID: 1})
	if err != nil {
		t.Errorf("a reaction in an unlinked chat: %v, want it done with", err)
	}
}
