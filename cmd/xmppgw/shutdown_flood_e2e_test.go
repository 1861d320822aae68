//go:build integration

package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xmppgw/internal/gwtest"
)

// A client floods messages to a contact (an SMS number, a linked Telegram
// chat) while the gateway gets SIGTERM (serve's ctx ends): every message
// is sent after the restart or refused, by the gateway or by Prosody
// (what comes after the component left); none is lost.
func TestFloodAtSIGTERM(t *testing.T) {
	t.Run("sms", func(t *testing.T) { floodAtSIGTERM(t, false) })
	t.Run("telegram linked", func(t *testing.T) { floodAtSIGTERM(t, true) })
}

func floodAtSIGTERM(t *testing.T, linked bool) {
	e := startEnv(t, envOptions{chats: map[string]string{"111": "alice@example.test"}})
	e.stop()
	to := "+15551234567@sms.example.test"
	if linked {
		to = "111@telegram.example.test"
	}
	for i, tr := range e.cfg.Transports {
		if tr.Name != "sms" {
			continue
		}
		var s gwtest.SMS
		switch v := tr.Settings.(type) {
		case gwtest.SMS:
			s = v
		case *gwtest.SMS:
			s = *v
		}
		s.RateLimits = &gwtest.SMSRates{NumberPerSecond: 5000, TotalPerSecond: 5000, UserPerHour: gwtest.NoLimit}
		e.cfg.Transports[i].Settings = s
	}
	for i, tr := range e.cfg.Transports {
		if tr.Name != "telegram" {
			continue
		}
		var s gwtest.Telegram
		switch v := tr.Settings.(type) {
		case gwtest.Telegram:
			s = v
		case *gwtest.Telegram:
			s = *v
		}
		s.RateLimits = &gwtest.TelegramRates{ChatPerSecond: 5000, GroupPerMinute: 60000, TotalPerSecond: 5000}
		e.cfg.Transports[i].Settings = s
	}
	e.cfg.Log = &gwtest.Log{Level: "info"}
	if err := e.cfg.Write(e.cfgPath); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	alice := e.login(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Bounded: about as many as the flood reaches while the gateway stops.
	const most = 5000
	var sent atomic.Int64
	stopFlood := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range most {
			select {
			case <-stopFlood:
				return
			default:
			}
			id := fmt.Sprintf("f%d", i)
			if err := alice.Send(ctx, `<message type="chat" id="`+id+`" to="`+to+`"><body>`+id+`</body></message>`); err != nil {
				t.Errorf("send %s: %v", id, err)
				return
			}
			sent.Store(int64(i + 1))
		}
	}()
	for sent.Load() < 500 {
		time.Sleep(time.Millisecond)
	}
	began := time.Now()
	e.stop() // SIGTERM
	took := time.Since(began)
	time.Sleep(time.Second) // the server refuses what follows
	close(stopFlood)
	wg.Wait()
	n := int(sent.Load())
	t.Logf("stopped in %v with the client flooding; %d messages sent", took, n)

	e.start(t) // what was stored goes out now
	outcome := map[string]string{}
	deadline := time.Now().Add(60 * time.Second)
	for len(outcome) < n && time.Now().Before(deadline) {
		for _, m := range e.twilio.Messages() {
			outcome[m.Body] = "sent"
		}
		for _, m := range e.tg.Sent() {
			outcome[m.Text] = "sent"
		}
		sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
		for {
			st, err := alice.Next(sctx)
			if err != nil {
				break
			}
			if st.Name == "message" && st.Type == "error" {
				outcome[st.ID] = "refused " + st.ErrorType + "/" + st.ErrorCondition
			}
		}
		scancel()
	}
	kinds := map[string]int{}
	var lost []string
	for i := range n {
		id := fmt.Sprintf("f%d", i)
		o, ok := outcome[id]
		if !ok {
			lost = append(lost, id)
			continue
		}
		kinds[o]++
	}
	t.Logf("outcomes: %v", kinds)
	if len(lost) > 0 {
		t.Errorf("%d of %d messages neither sent nor refused: %v", len(lost), n, lost[:min(len(lost), 20)])
	}
}
