package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"xmppgw/transports"
)

// countedAnswers takes texts starting with "ack" as answers, counting them.
type countedAnswers struct{ answered []string }

func (a *countedAnswers) Answer(_ context.Context, from, text, _, _ string, _ bool) (bool, error) {
	if !strings.HasPrefix(text, "ack") {
		return false, nil
	}
	a.answered = append(a.answered, from+": "+text)
	return true, nil
}

// A provider's event taken as an answer to an alert is answered once,
// however often it is delivered (a webhook retried after a lost 200,
// updates read again after a restart); another event with the same text is
// another answer, and a text that is no answer is relayed as usual.
func TestContactAnswerOnce(t *testing.T) {
	g, _, store := testGateway(t)
	answers := &countedAnswers{}
	g.SetAnswers(answers, false)
	ctx := context.Background()
	deliver := func(id, body string) {
		t.Helper()
		if err := g.Deliver(ctx, transports.Inbound{Account: "+15550001111", From: "+15550002222", ID: id, Body: body}); err != nil {
			t.Fatalf("Deliver(%s): %v", id, err)
		}
	}
	deliver("SM1", "ack 1234")
	deliver("SM1", "ack 1234") // the same webhook again
	deliver("SM2", "ack 1234") // written again: a new answer
	if got := strings.Join(answers.answered, "; "); got != "+15550002222@sms.example.test: ack 1234; +15550002222@sms.example.test: ack 1234" {
		t.Errorf("answered: %s", got)
	}
	deliver("SM3", "hello")
	if q := queued(t, store); !strings.Contains(q, "<body>hello</body>") || strings.Contains(q, "ack") {
		t.Errorf("queued for XMPP: %s", q)
	}
}

// blockingAnswers answers "ack" texts, each after release is closed.
type blockingAnswers struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (a *blockingAnswers) Answer(context.Context, string, string, string, string, bool) (bool, error) {
	<-a.release
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return true, nil
}

// Two deliveries of one event that overlap (the provider retries while the
// first waits on Alertmanager) are answered once. In a bubble,
// synctest.Wait returns once both are blocked: the first on Alertmanager,
// the second on the first, so they certainly overlap.
func TestContactAnswerOverlapping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _, _ := testGateway(t)
		answers := &blockingAnswers{release: make(chan struct{})}
		g.SetAnswers(answers, false)
		ctx := context.Background()
		var wg sync.WaitGroup
		deliver := func() {
			if err := g.Deliver(ctx, transports.Inbound{Account: "+15550001111", From: "+15550002222", ID: "SM1", Body: "ack 1"}); err != nil {
				t.Error(err)
			}
		}
		wg.Go(deliver)
		synctest.Wait() // the first waits on Alertmanager
		wg.Go(deliver)
		synctest.Wait() // and the second on the first
		close(answers.release)
		wg.Wait()
		if answers.n != 1 {
			t.Errorf("answered %d times", answers.n)
		}
	})
}

// keyedAnswers records each answer with its desk key.
type keyedAnswers struct{ answered []string }

func (a *keyedAnswers) Answer(_ context.Context, from, text, _, key string, _ bool) (bool, error) {
	a.answered = append(a.answered, from+" "+text+" "+strconv.Quote(key))
	return true, nil
}

// An XMPP user's answer resent with the same stanza id (a client
// reconnecting) is answered once, under a key of the sender's bare JID,
// the id and the text's hash, and the window of its first delivery;
// another id is another answer, and one without an id has no key.
func TestXMPPAnswerOnce(t *testing.T) {
	g, _, _ := testGateway(t)
	answers := &keyedAnswers{}
	g.SetAnswers(answers, true)
	send := func(from, id string) {
		t.Helper()
		attr := ""
		if id != "" {
			attr = ` id="` + id + `"`
		}
		if out := handle(t, g, `<message type="chat"`+attr+` from="`+from+`" to="sms.example.test"><body>ack K4</body></message>`); out != "" {
			t.Errorf("wrote %s", out)
		}
	}
	send("alice@example.test/phone", "m1")
	send("alice@example.test/laptop", "m1") // the same, resent from another client
	send("alice@example.test/phone", "m2")
	send("alice@example.test/phone", "")
	if len(answers.answered) != 3 {
		t.Fatalf("answered %q", answers.answered)
	}
	h := sha256.Sum256([]byte("ack K4"))
	text := hex.EncodeToString(h[:12])
	window := regexp.MustCompile(`\\x00[0-9]+"$`) // the first delivery's
	for i, want := range []string{
		`alice@example.test ack K4 "sms\x00answer-xmpp:alice@example.test\x00m1\x00` + text + `"`,
		`alice@example.test ack K4 "sms\x00answer-xmpp:alice@example.test\x00m2\x00` + text + `"`,
		`alice@example.test ack K4 ""`,
	} {
		if got := window.ReplaceAllString(answers.answered[i], `"`); got != want || i < 2 && got == answers.answered[i] {
			t.Errorf("answer %d: %s, want %s", i, answers.answered[i], want)
		}
	}
}

// A second, different answer sent with an id the client used before
// (simple clients reuse ids) is another answer, not a resend.
func TestXMPPAnswerReusedIDOtherText(t *testing.T) {
	g, _, _ := testGateway(t)
	answers := &keyedAnswers{}
	g.SetAnswers(answers, true)
	send := func(body string) string {
		t.Helper()
		return handle(t, g, `<message type="chat" id="1" from="alice@example.test/phone" to="sms.example.test"><body>`+body+`</body></message>`)
	}
	send("ack K4")
	out := send("silence K4 2h")
	if len(answers.answered) != 2 {
		t.Errorf("answers taken: %q (and wrote %q): the silence was dropped", answers.answered, out)
	}
}

// A resend crossing a window's end has the first's key (it takes turns
// with the first under its lock), and finds the first's record in its own
// window.
func TestXMPPAnswerKeyAcrossWindows(t *testing.T) {
	end := time.UnixMilli((time.Now().UnixMilli()/alertWindow.Milliseconds() + 1) * alertWindow.Milliseconds())
	k1, marks1 := xmppAnswerKey("alice@example.test", "m1", "ack K4", end.Add(-time.Second))
	k2, marks2 := xmppAnswerKey("alice@example.test", "m1", "ack K4", end.Add(time.Second))
	if k1 != k2 {
		t.Errorf("keys %q and %q across a window's end", k1, k2)
	}
	if !slices.Contains(marks1, marks2[0]) {
		t.Errorf("the resend looks up %q; the first recorded %q", marks2[0], marks1)
	}
	if k, _ := xmppAnswerKey("alice@example.test", "m1", "unack K4", end); k == k1 {
		t.Errorf("another text under the same id has the same key %q", k)
	}
}

// The desk knows an XMPP answer by the window of its first delivery: a
// resend across a window's end after a first delivery the desk took (and
// that failed after) has the first's desk key, and the same text under
// the same id an hour later (a client reusing ids) another key.
func TestXMPPDeskKeyFirstWindow(t *testing.T) {
	g, _, store := testGateway(t)
	ctx := context.Background()
	end := time.UnixMilli((time.Now().UnixMilli()/alertWindow.Milliseconds() + 1) * alertWindow.Milliseconds())
	key, _ := xmppAnswerKey("alice@example.test", "1", "ack K4", end)
	dk1, first, err := g.xmppDeskKey(ctx, key, end.Add(-time.Second))
	if err != nil || first == "" {
		t.Fatalf("first delivery: %q %q %v", dk1, first, err)
	}
	if _, err := store.ToXMPP().Accept(ctx, g.name, first); err != nil { // the desk took it
		t.Fatal(err)
	}
	if dk2, _, _ := g.xmppDeskKey(ctx, key, end.Add(time.Second)); dk2 != dk1 {
		t.Errorf("a resend across the window's end: desk key %q, the first's %q", dk2, dk1)
	}
	if dk3, _, _ := g.xmppDeskKey(ctx, key, end.Add(time.Hour)); dk3 == dk1 {
		t.Errorf("the same text under id 1 an hour later: the first's desk key %q", dk3)
	}
}
