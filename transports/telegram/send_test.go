package telegram

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

var (
	alice = botfake.User{ID: 111, FirstName: "Alice", LastName: "A"}
	bob   = botfake.User{ID: 222, FirstName: "Bob"}
	dm    = botfake.Chat{ID: 111, Type: "private", FirstName: "Alice", LastName: "A"}
	group = botfake.Chat{ID: -1001234, Type: "supergroup", Title: "Ops"}
)

func TestSend(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	ctx := testCtx(t)

	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "hello", ID: "1"})
	if err != nil || id != "111:1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	long := strings.Repeat("x", maxText) + " tail"
	id2, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long, ID: "2"})
	if err != nil || id2 != "111:2,3" {
		t.Fatalf("long Send = %q, %v", id2, err)
	}
	// A correction edits the message, and the parts of a long one.
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "hello, world", ID: "3", Replaces: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "short now", ID: "4", Replaces: id2}); err != nil {
		t.Fatal(err)
	}
	deleted := map[int]bool{}
	for _, d := range fake.Deleted() {
		deleted[d.MessageID] = true
	}
	var texts []string
	for _, m := range fake.SentTo(111) {
		if !deleted[m.MessageID] {
			texts = append(texts, m.Text)
		}
	}
	if want := []string{"hello, world", "short now"}; strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("chat holds %q, want %q", texts, want)
	}
	if n := len(fake.Deleted()); n != 1 {
		t.Errorf("%d messages deleted, want the surplus part only", n)
	}
	// Same text again: Telegram says "not modified", which is success.
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "hello, world", ID: "5", Replaces: id}); err != nil {
		t.Errorf("unchanged correction: %v", err)
	}
	if err := tr.Typing(ctx, "", "111"); err != nil {
		t.Fatal(err)
	}
	tr.Typing(ctx, "", "111") // within typingEvery: skipped
	if a := fake.Actions(); len(a) != 1 || a[0].Action != "typing" || a[0].ChatID != 111 {
		t.Errorf("actions %+v, want one typing", a)
	}
}

func TestSendErrors(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	fake.AddChat(group)
	fake.Kick(group.ID, "Forbidden: bot was kicked from the supergroup chat")
	ctx := testCtx(t)

	tests := []struct {
		name      string
		setup     func()
		to        transports.Addr
		kind      transports.Kind
		msg       string
		retryWait time.Duration
	}{
		{"kicked", nil, "-1001234", transports.KindUnreachable, "Telegram error 403: Forbidden: bot was kicked from the supergroup chat", 0},
		{"unknown chat", nil, "999", transports.KindUnreachable, "Telegram error 400: Bad Request: chat not found", 0},
		{"flood", func() { fake.Fail("sendMessage", 1, 429, "Too Many Requests: retry after 7", 7) }, "111",
			transports.KindRateLimited, "Telegram error 429: Too Many Requests: retry after 7", 7 * time.Second},
		{"server error", func() { fake.Fail("sendMessage", 1, 502, "Bad Gateway", 0) }, "111",
			transports.KindUnavailable, "Telegram error 502: Bad Gateway", 0},
	}
	for _, tt := range tests {
		if tt.setup != nil {
			tt.setup()
		}
		_, err := tr.Send(ctx, transports.Outbound{To: tt.to, Body: "x", ID: tt.name})
		var pe *transports.Error
		if !errors.As(err, &pe) || pe.Kind != tt.kind || pe.Error() != tt.msg || pe.RetryAfter != tt.retryWait {
			t.Errorf("%s: got %#v (%v)", tt.name, pe, err)
		}
	}

	// A wrong token is an auth failure, and the token never shows.
	bad, err := New(transports.Params{Name: "telegram", State: &memKV{}}, &Settings{Token: "999:wrong-token", APIURL: fake.Start()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Send(ctx, transports.Outbound{To: "111", Body: "x", ID: "t"})
	var pe *transports.Error
	if !errors.As(err, &pe) || pe.Kind != transports.KindAuth {
		t.Errorf("wrong token: %v", err)
	}
	// Unreachable API: temporary, and the URL's token is scrubbed.
	down, err := New(transports.Params{Name: "telegram", State: &memKV{}}, &Settings{Token: testToken, APIURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.Send(ctx, transports.Outbound{To: "111", Body: "x", ID: "d"})
	if !errors.As(err, &pe) || pe.Kind != transports.KindUnavailable || strings.Contains(err.Error(), testToken) {
		t.Errorf("unreachable API: %v", err)
	}
}

// A retry after a partial send of a long text sends only what is missing.
func TestSendResumesParts(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	ctx := testCtx(t)
	long := strings.Repeat("a", maxText) + strings.Repeat("b", 10)
	_, err := tr.Send(ctx, transports.Outbound{To: "111", Body: strings.Repeat("z", 3), ID: "warm"})
	if err != nil {
		t.Fatal(err)
	}
	tr.progress["9"] = partial{ids: []int{42}, at: time.Now()} // as if part one was sent before a failure
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long, ID: "9"})
	if err != nil || id != "111:42,2" {
		t.Fatalf("resumed Send = %q, %v", id, err)
	}
	sent := fake.SentTo(111)
	if last := sent[len(sent)-1]; last.Text != strings.Repeat("b", 10) {
		t.Errorf("resumed with %q", last.Text[:10])
	}
	if _, ok := tr.progress["9"]; ok {
		t.Error("progress kept after success")
	}
}

// The parts of a job that failed for now are forgotten once the core can
// no longer retry it (progressKept after its last failure), when another
// job fails for now.
func TestProgressForgotten(t *testing.T) {
	tr := &Transport{progress: map[string]partial{}}
	temp := &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram"}
	tr.progress["old"] = partial{ids: []int{1}, at: time.Now().Add(-progressKept - time.Minute)}
	tr.progress["recent"] = partial{ids: []int{2}, at: time.Now().Add(-progressKept + time.Hour)}
	tr.failedPart("new", []int{3}, true, temp)
	got := slices.Sorted(maps.Keys(tr.progress))
	if want := []string{"new", "recent"}; !slices.Equal(got, want) {
		t.Errorf("kept the parts of %q, want %q", got, want)
	}
	tr.failedPart("recent", nil, false, &transports.Error{Kind: transports.KindRejected, Provider: "Telegram"})
	if _, ok := tr.progress["recent"]; ok {
		t.Error("parts kept after a failure for good")
	}
}

// A correction whose text grew past one message sends the rest as new
// messages, and its remote id names them all: the next correction edits
// them, and a retraction deletes them.
func TestCorrectionThatGrows(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "hi", ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", maxText) + " tail"
	id2, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long, ID: "2", Replaces: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, ids, _ := parseRemoteID(id2); len(ids) != 2 {
		t.Fatalf("the correction's remote id %q", id2)
	}
	id3, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long + "!", ID: "3", Replaces: id2})
	if err != nil || id3 != id2 {
		t.Fatalf("the next correction: %q, %v", id3, err)
	}
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "4", Retracts: id3}); err != nil {
		t.Fatal(err)
	}
	deleted := map[int]bool{}
	for _, d := range fake.Deleted() {
		deleted[d.MessageID] = true
	}
	var left []string
	for _, m := range fake.SentTo(111) {
		if !deleted[m.MessageID] {
			left = append(left, m.Text)
		}
	}
	if len(left) != 0 {
		t.Errorf("after the retraction the chat still shows %q", left)
	}
}

// A correction that grows past one message sends the new parts with
// sendMessage. When a later part fails for now (a 502), the core retries
// the same job; the retry must not send again the parts Telegram already
// took, as Send's plain path does not.
func TestCorrectionRetryDoesNotRepeatParts(t *testing.T) {
	tr, fake, proxy := newProxied(t)
	fake.AddChat(dm)
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "short", ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := strings.Repeat("a", maxText), strings.Repeat("b", maxText), strings.Repeat("c", 10)
	corr := transports.Outbound{To: "111", Body: a + " " + b + " " + c, ID: "2", Replaces: id}

	proxy.arm(2) // part two (b) is taken, part three (c) fails for now
	_, err = tr.Send(ctx, corr)
	if err == nil {
		t.Fatal("first attempt succeeded, want the 502")
	}
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Fatalf("first attempt's error %v is not temporary: the core would not retry", err)
	}
	proxy.arm(0)
	got, err := tr.Send(ctx, corr) // the core's retry of the same job
	if err != nil {
		t.Fatal(err)
	}
	if got != "111:1,2,3" {
		t.Errorf("the correction's remote id is %q, want 111:1,2,3 (the edited message and the parts sent)", got)
	}
	texts := visible(fake, 111)
	nb := 0
	for _, s := range texts {
		if s == b {
			nb++
		}
	}
	if nb != 1 || len(texts) != 3 {
		short := make([]string, len(texts))
		for i, s := range texts {
			short[i] = s[:1] + "…"
		}
		t.Errorf("after the retry the chat shows %d messages %q; part b is there %d times, want once", len(texts), short, nb)
	}
}

// A correction whose edited message was deleted meanwhile goes out as a new
// message; when a later part then fails for now, the retry does not send
// that new message again.
func TestCorrectionRetryKeepsResentPart(t *testing.T) {
	tr, fake, proxy := newProxied(t)
	fake.AddChat(dm)
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: "short", ID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", Retracts: id, ID: "2"}); err != nil {
		t.Fatal(err)
	}
	a, b := strings.Repeat("a", maxText), strings.Repeat("b", 10)
	corr := transports.Outbound{To: "111", Body: a + " " + b, ID: "3", Replaces: id}
	proxy.arm(2) // a is sent anew (the message to edit is gone); b fails for now
	if _, err := tr.Send(ctx, corr); err == nil {
		t.Fatal("first attempt succeeded, want the 502")
	}
	proxy.arm(0)
	if _, err := tr.Send(ctx, corr); err != nil {
		t.Fatal(err)
	}
	if texts := visible(fake, 111); len(texts) != 2 || texts[0] != a || texts[1] != b {
		t.Errorf("after the retry the chat shows %d messages, want a and b once each", len(texts))
	}
}

// A long text whose last part would be only white space (a trailing line
// break just past 4096 units) goes out whole: Telegram would refuse that
// part ("message text is empty") after the first went out, and the sender
// would get an error for a text that was delivered. The same holds for a
// correction and for a caption too long for a photo, cut the same way.
func TestSendTrailingWhitespacePastTheLimit(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	ctx := testCtx(t)
	body := strings.Repeat("x", maxText) + "\n\n"
	id, err := tr.Send(ctx, transports.Outbound{To: "111", Body: body, ID: "1"})
	if err != nil {
		t.Fatalf("Send of %d x and a trailing blank line: %v (chat holds %d message(s))", maxText, err, len(fake.SentTo(111)))
	}
	if id != "111:1" {
		t.Errorf("Send = %q, want one message", id)
	}
	long := strings.Repeat("y", maxText) + " tail"
	id2, err := tr.Send(ctx, transports.Outbound{To: "111", Body: long, ID: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", Body: strings.Repeat("z", maxText) + "\n \n", ID: "3", Replaces: id2}); err != nil {
		t.Errorf("a correction with a trailing blank line past the limit: %v", err)
	}
	if texts := visible(fake, 111); len(texts) != 2 || strings.TrimSpace(texts[1]) != strings.Repeat("z", maxText) {
		t.Errorf("the chat holds %d messages, want the text and the corrected one", len(texts))
	}
}

// The XMPP stanzas of Telegram messages carry ids the core makes from
// Inbound.ID: "CHAT:MSG" for the text, "CHAT:MSG-m0" for the attachment of
// a captioned photo (component/sink.go inboundStanzas), "CHAT:MSG:eUPDATE"
// for an edit (receive.go). A reaction or a reply from XMPP to such a
// stanza reaches Send with that id, and goes to message MSG.
func TestParseRemoteIDOfReceivedStanzas(t *testing.T) {
	for in, want := range map[string]string{
		"111:5":          "111 [5]",
		"111:5,6,7":      "111 [5 6 7]",
		"111:5-m0":       "111 [5]",
		"111:5-m12":      "111 [5]",
		"111:5:e7":       "111 [5]",
		"111:5:e7-m0":    "111 [5]",
		"-1001234:42-m1": "-1001234 [42]",
		"-1001234:42:e9": "-1001234 [42]",
		// Refused:
		"111":          "",
		"111:":         "",
		"111:5-m":      "",
		"111:5-mx":     "",
		"111:5:e":      "",
		"111:5:x7":     "",
		"111:5-m0:e7":  "",
		"111:5-m0-m1":  "",
		"111:5:e7:e8":  "",
		"111:5,6-m0":   "",
		"111:5-1":      "",
		"x:5-m0":       "",
		"111:5-m0 ":    "",
		"111:e7":       "",
		"111:-m0":      "",
		"111:5:e7-m0x": "",
	} {
		chat, ids, ok := parseRemoteID(in)
		got := ""
		if ok {
			got = fmt.Sprint(chat, " ", ids)
		}
		if got != want {
			t.Errorf("parseRemoteID(%q) = %q, want %q", in, got, want)
		}
	}
}

// A reaction and a reply from XMPP to the attachment stanza of a captioned
// photo, or to the stanza of an edit, reach the Telegram message.
func TestReactAndReplyToAttachmentAndEditedStanza(t *testing.T) {
	tr, fake := newTest(t, ModePolling, nil)
	fake.AddChat(dm)
	sink := newSink()
	sink.linked["111"] = "alice@example.test"
	run(t, tr, sink)
	m := fake.UserSendsPhoto(dm, alice, "look", []byte("\xff\xd8\xff\xe0 a photo"))
	sink.waitInbound(t, 1)
	ctx := testCtx(t)
	for i, target := range []string{messageKey(111, m.MessageID) + "-m0", messageKey(111, m.MessageID) + ":e7"} {
		_, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "r" + target, ReactTo: target, Reactions: []string{"👍"}})
		if err != nil {
			t.Errorf("reaction to the stanza %q of message %d: %v", target, m.MessageID, err)
		}
		if _, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "q" + target, Body: "yes", ReplyTo: target}); err != nil {
			t.Fatal(err)
		}
		sent := fake.SentTo(111)
		if r := sent[len(sent)-1].ReplyToMessage; r == nil || r.MessageID != m.MessageID {
			t.Errorf("%d: the reply to the stanza %q does not answer message %d: %+v", i, target, m.MessageID, r)
		}
	}
}
