package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
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
// the id and the text's hash, and the time of its first delivery;
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
	first := regexp.MustCompile(`\\x00[0-9]+"$`) // the first delivery's time
	for i, want := range []string{
		`alice@example.test ack K4 "sms\x00answer-xmpp:alice@example.test\x00m1\x00` + text + `"`,
		`alice@example.test ack K4 "sms\x00answer-xmpp:alice@example.test\x00m2\x00` + text + `"`,
		`alice@example.test ack K4 ""`,
	} {
		if got := first.ReplaceAllString(answers.answered[i], `"`); got != want || i < 2 && got == answers.answered[i] {
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

// An XMPP answer resent with the same stanza id and text is the same
// answer within 10 minutes of its first delivery (README), wherever the
// clock's 10-minute marks fall, and another answer from then on, whose
// own resends are then the same answer for 10 minutes.
func TestXMPPAnswerResentWithinTenMinutes(t *testing.T) {
	g, _, _ := testGateway(t)
	ctx := context.Background()
	key := xmppAnswerKey("alice@example.test", "1", "status")
	start := time.Now().Truncate(time.Millisecond)
	var dks []string
	for i, c := range []struct {
		after   time.Duration // since the first delivery
		offered bool
	}{
		0: {0, true},
		1: {30 * time.Second, false},
		2: {10*time.Minute - time.Millisecond, false},
		3: {10 * time.Minute, true}, // another answer
		4: {19 * time.Minute, false},
		5: {20*time.Minute - time.Millisecond, false},
		6: {20 * time.Minute, true},
	} {
		offered := false
		handled, err := g.xmppAnswerOnce(ctx, key, start.Add(c.after), func(_ context.Context, dk string) (bool, error) {
			offered = true
			dks = append(dks, dk)
			return true, nil
		})
		if err != nil || !handled || offered != c.offered {
			t.Errorf("%d: delivered %v after the first: handled %v, offered to the desk %v (want %v), err %v", i, c.after, handled, offered, c.offered, err)
		}
	}
	if len(dks) == 3 && (dks[0] == dks[1] || dks[1] == dks[2]) {
		t.Errorf("the desk knows three answers by the keys %q", dks)
	}
}

// A delivery the desk took but that failed after (the store) is offered
// again when resent within 10 minutes, under the first's desk key (the
// desk knows it, and acts once), and then no more; the same text under the
// same id an hour later (a client reusing ids) has another key.
func TestXMPPAnswerResentAfterFailureKeepsDeskKey(t *testing.T) {
	g, _, _ := testGateway(t)
	ctx := context.Background()
	key := xmppAnswerKey("alice@example.test", "1", "ack K4")
	start := time.Now()
	var dks []string
	deliver := func(after time.Duration, err error) {
		t.Helper()
		g.xmppAnswerOnce(ctx, key, start.Add(after), func(_ context.Context, dk string) (bool, error) {
			dks = append(dks, dk)
			return true, err
		})
	}
	deliver(0, errors.New("store down"))
	deliver(9*time.Minute, nil)
	deliver(9*time.Minute+time.Second, nil) // answered: not offered
	deliver(time.Hour, nil)
	if len(dks) != 3 || dks[0] != dks[1] || dks[2] == dks[0] {
		t.Errorf("desk keys offered: %q; want the first's again, then another", dks)
	}
}
