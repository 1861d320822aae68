package component

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/transports"
)

// countedAnswers takes texts starting with "ack" as answers, counting them.
type countedAnswers struct{ answered []string }

func (a *countedAnswers) Answer(_ context.Context, from, text, _ string, _ bool) (bool, error) {
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

func (a *blockingAnswers) Answer(context.Context, string, string, string, bool) (bool, error) {
	<-a.release
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return true, nil
}

// Two deliveries of one event that overlap (the provider retries while the
// first waits on Alertmanager) are answered once.
func TestContactAnswerOverlapping(t *testing.T) {
	g, _, _ := testGateway(t)
	answers := &blockingAnswers{release: make(chan struct{})}
	g.SetAnswers(answers, false)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Deliver(ctx, transports.Inbound{Account: "+15550001111", From: "+15550002222", ID: "SM1", Body: "ack 1"}); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // both deliveries under way
	close(answers.release)
	wg.Wait()
	if answers.n != 1 {
		t.Errorf("answered %d times", answers.n)
	}
}
