package mapping

import (
	"context"
	"testing"
)

// The resend window survives a restart: a message still queued, or sent,
// is a resend after the store is opened again; one that failed is not (its
// sender may send it again).
func TestResendWindowSurvivesReopen(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		job := func(id string) Job {
			return Job{Transport: "sms", Sender: "alice@x.test/phone", Account: "+1", Remote: "+2", Body: "disk full", StanzaID: id}
		}
		s := open(t)
		queued, sent, failed := job("queued"), job("sent"), job("failed")
		for _, j := range []*Job{&queued, &sent, &failed} {
			id, dup, err := s.Jobs().Enqueue(ctx, *j)
			if err != nil || dup {
				t.Fatalf("Enqueue(%s): dup %v, err %v", j.StanzaID, dup, err)
			}
			j.ID = id
		}
		if _, err := s.Jobs().Sent(ctx, sent, "SM1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Jobs().Failed(ctx, failed, []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s = open(t)
		want := map[string]bool{"queued": true, "sent": true, "failed": false, "new": false}
		for id, dup := range want {
			_, got, err := s.Jobs().Enqueue(ctx, job(id))
			if err != nil || got != dup {
				t.Errorf("after reopening, Enqueue(%s): dup %v, err %v; want dup %v", id, got, err, dup)
			}
		}
	})
}

// The window in memory forgets keys past its time, and past its size
// oldest first.
func TestResendKeysBounded(t *testing.T) {
	r := newKeyWindow(maxResendKeys)
	k := func(i int) keyHash { return resendHash(Job{Transport: "sms", StanzaID: string(rune('a' + i))}) }
	r.add([]keyHash{k(0), k(1)}, 1000, 0)
	r.add([]keyHash{k(2)}, 2000, 1500)
	if r.has(k(0), 0) || r.has(k(1), 0) {
		t.Error("keys older than the window's start were kept")
	}
	if !r.has(k(2), 1500) {
		t.Error("a key within the window was forgotten")
	}
	if r.has(k(2), 2001) {
		t.Error("seen ignores since")
	}
	for i := range maxResendKeys + 10 {
		var h keyHash
		h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
		h[15] = 1
		r.add([]keyHash{h}, 3000, 0)
	}
	if len(r.at) != maxResendKeys || len(r.order)-r.head != maxResendKeys {
		t.Errorf("the window holds %d keys (%d in order), want %d", len(r.at), len(r.order)-r.head, maxResendKeys)
	}
	if r.has(k(2), 0) {
		t.Error("the oldest key was kept past the window's size")
	}
}

// A message that failed may be sent again by its sender, in the same run:
// that is no resend. Two messages with one id but other contents (two
// pictures with empty bodies, two reactions), or with the same contents
// from another account (the user's own number, then a team inbox's), are
// two messages; the same message again is a resend, after reopening too.
func TestResendKeyContents(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		base := Job{Transport: "sms", Sender: "alice@x.test/phone", Account: "+1", Remote: "+2", StanzaID: "m1"}
		enqueue := func(name string, j Job, want bool) Job {
			t.Helper()
			id, dup, err := s.Jobs().Enqueue(ctx, j)
			if err != nil || dup != want {
				t.Errorf("%s: dup %v, err %v; want dup %v", name, dup, err, want)
			}
			j.ID = id
			return j
		}
		failed := enqueue("a message", Job{Transport: "sms", Sender: "alice@x.test/pc", Account: "+1", Remote: "+2", StanzaID: "f1", Body: "disk full"}, false)
		if err := s.Jobs().Failed(ctx, failed, []byte("<message/>")); err != nil {
			t.Fatal(err)
		}
		failed.ID = 0
		enqueue("the failed message sent again", failed, false)
		enqueue("it once more", failed, true)

		cat, pdf := base, base
		cat.Media, pdf.Media = []string{"https://up.example/cat.jpg"}, []string{"https://up.example/invoice.pdf"}
		up, down := base, base
		up.ReactTo, up.Reactions = "x1", []string{"👍"}
		down.ReactTo, down.Reactions = "x1", []string{"👎"}
		for _, j := range []Job{cat, pdf, up, down} {
			enqueue("contents of their own", j, false)
		}
		enqueue("a picture again", pdf, true)
		text := base
		text.Body = "on my way"
		inbox := text
		inbox.Account = "+15550009999"
		enqueue("a text", text, false)
		enqueue("the same text from another account", inbox, false)
		enqueue("the inbox's text again", inbox, true)
		s.Close()
		s = open(t)
		enqueue("a picture again, after reopening", cat, true)
		enqueue("a reaction again, after reopening", down, true)
		enqueue("the text again, after reopening", text, true)
		enqueue("the inbox's text again, after reopening", inbox, true)
	})
}

// Sends that write no sent row of their own stay in the window after a
// reopen, on either store: one the provider gave no id (a reaction, a
// retraction), and a correction the provider knows by the original's id
// (a Telegram edit), whose row sent keeps.
func TestResendWindowSurvivesReopenWithoutSentRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		reaction := Job{Transport: "tg", Sender: "alice@x.test/pc", Remote: "42", StanzaID: "r1",
			ReactTo: "m7", Reactions: []string{"👍"}}
		original := Job{Transport: "tg", Sender: "alice@x.test/pc", Remote: "42", StanzaID: "m7", Body: "helo"}
		correction := Job{Transport: "tg", Sender: "alice@x.test/pc", Remote: "42", StanzaID: "c1", Body: "hello", Replaces: "m7"}
		for _, send := range []struct {
			j        *Job
			remoteID string
		}{{&reaction, ""}, {&original, "7"}, {&correction, "7"}} {
			id, dup, err := s.Jobs().Enqueue(ctx, *send.j)
			if err != nil || dup {
				t.Fatalf("Enqueue(%s): dup %v, %v", send.j.StanzaID, dup, err)
			}
			send.j.ID = id
			if _, err := s.Jobs().Sent(ctx, *send.j, send.remoteID); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		s = open(t)
		for _, j := range []Job{reaction, original, correction} {
			j.ID = 0
			if _, dup, err := s.Jobs().Enqueue(ctx, j); err != nil || !dup {
				t.Errorf("after reopening, Enqueue(%s) again: dup %v, err %v; want a resend", j.StanzaID, dup, err)
			}
		}
	})
}
