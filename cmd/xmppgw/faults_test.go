//go:build integration

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"mellium.im/xmpp/jid"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// The fault suite sends faultN messages each way through a real Prosody and
// the gateway process, injects one fault halfway, and counts what arrived.
// Lost and duplicated must be 0, and each contact's messages in order.
// XMPPGW_FAULT_TABLE names a file that receives the table (make test prints it).

const (
	faultN       = 1000
	faultRemotes = 10 // phone numbers on the other side
	faultBatch   = 50 // XMPP messages between two acknowledgements
)

func remoteNum(k int) string { return fmt.Sprintf("+1555100%04d", k%faultRemotes) }

// Telegram chats: alice's receive, bob's are written to.
func tgInChat(r int) int64  { return 1000 + int64(r%faultRemotes) }
func tgOutChat(r int) int64 { return 2000 + int64(r%faultRemotes) }

// faultNet is one network's side of the traffic.
type faultNet struct {
	domain  string
	outJID  func(k int) string // contact the k-th outbound message goes to
	inject  func(ctx context.Context, e *faultEnv, c *faultCounters, tag string, k int, replay bool) error
	holding func(e *faultEnv, tag string) *tally // outbound messages the provider holds
	setup   func(t *testing.T, e *faultEnv)      // once the gateway runs, if set
	mtproto bool                                 // the telegram-user transport, on tguserfake
	group   bool                                 // inbound comes from a group, each line prefixed with its sender
}

var smsNet = faultNet{
	domain: "sms.example.test",
	outJID: func(k int) string { return remoteNum(k) + "@sms.example.test" },
	inject: func(ctx context.Context, e *faultEnv, c *faultCounters, tag string, k int, replay bool) error {
		sum := sha256.Sum256([]byte(tag + strconv.Itoa(k)))
		sid := "SM" + hex.EncodeToString(sum[:16])
		form := e.twilio.InboundForm(sid, remoteNum(k), aliceNum, fmt.Sprintf("i-%s-%d", tag, k))
		times := 1
		if replay {
			times = 4
		}
		for range times {
			for {
				if ctx.Err() != nil {
					return fmt.Errorf("inbound: %s not accepted: %w", sid, ctx.Err())
				}
				status, err := e.twilio.PostForm(ctx, e.public+"/hooks/sms/inbound", form)
				if err == nil && status == 200 {
					break
				}
				c.refusedHook.Add(1)
				if err != nil {
					c.saw("webhook: no answer")
				} else {
					c.saw("webhook " + strconv.Itoa(status))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		return nil
	},
	holding: func(e *faultEnv, tag string) *tally {
		o := newTally()
		for _, m := range e.twilio.Messages() {
			if strings.HasPrefix(m.Body, "o-"+tag+"-") {
				o.add(m.To, m.Body, m.SID)
			}
		}
		return o
	},
}

var telegramNet = faultNet{
	domain: "telegram.example.test",
	outJID: func(k int) string { return fmt.Sprintf("%d@telegram.example.test", tgOutChat(k)) },
	inject: func(_ context.Context, e *faultEnv, _ *faultCounters, tag string, k int, _ bool) error {
		chat := botfake.Chat{ID: tgInChat(k), Type: "private", FirstName: "Chat", LastName: strconv.Itoa(k % faultRemotes)}
		e.tg.UserSends(chat, botfake.User{ID: chat.ID, FirstName: chat.FirstName}, fmt.Sprintf("i-%s-%d", tag, k))
		return nil
	},
	holding: func(e *faultEnv, tag string) *tally {
		o := newTally()
		for _, m := range e.tg.Sent() {
			if strings.HasPrefix(m.Text, "o-"+tag+"-") {
				o.add(strconv.FormatInt(m.Chat.ID, 10), m.Text, fmt.Sprintf("%d:%d", m.Chat.ID, m.MessageID))
			}
		}
		return o
	},
}

// The telegram-user network: bob's Telegram account writes to
// faultRemotes contacts of his; faultRemotes others write to alice's.
const (
	tguAlice int64 = 7000001
	tguBob   int64 = 7000002
)

func tguOut(r int) int64 { return 7100000 + int64(r%faultRemotes) }
func tguIn(r int) int64  { return 7200000 + int64(r%faultRemotes) }

var tgUserNet = faultNet{
	mtproto: true,
	domain:  "tg.example.test",
	outJID:  func(k int) string { return fmt.Sprintf("%d@tg.example.test", tguOut(k)) },
	inject: func(_ context.Context, e *faultEnv, _ *faultCounters, tag string, k int, _ bool) error {
		e.mt.Post(tguIn(k), tguserfake.Peer{User: tguAlice}, fmt.Sprintf("i-%s-%d", tag, k), 0)
		return nil
	},
	holding: func(e *faultEnv, tag string) *tally {
		o := newTally()
		for _, m := range e.mt.Sent(tguBob) {
			if strings.HasPrefix(m.Text, "o-"+tag+"-") && !m.Deleted {
				o.add(strconv.FormatInt(m.Peer.User, 10), m.Text, strconv.Itoa(m.ID))
			}
		}
		return o
	},
	setup: func(t *testing.T, e *faultEnv) {
		e.mt.AddUser(tguserfake.User{ID: tguAlice, Phone: "+15550007001", FirstName: "Alice"})
		tguAddRemotes(e)
		for r := range faultRemotes {
			e.mt.AddContact(tguAlice, tguIn(r))
		}
		tguLoginBoth(t, e)
	},
}

// tguKill SIGKILLs the gateway once the senders are under way, then
// starts it again.
func tguKill(note string) func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
	return func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
		begin()
		time.Sleep(20 * time.Millisecond)
		e.stopGateway(syscall.SIGKILL)
		time.Sleep(300 * time.Millisecond)
		e.startGateway()
		return note
	}
}

// tguCut cuts both accounts' MTProto connections three times.
func tguCut(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
	begin()
	for range 3 {
		time.Sleep(100 * time.Millisecond)
		e.mt.Disconnect(tguAlice)
		e.mt.Disconnect(tguBob)
	}
	return "both accounts' connections cut 3 times"
}

// tguAddRemotes adds bob, his contacts (the outbound remotes) and the
// inbound remotes to the fake.
func tguAddRemotes(e *faultEnv) {
	e.mt.AddUser(tguserfake.User{ID: tguBob, Phone: "+15550007002", FirstName: "Bob"})
	for r := range faultRemotes {
		e.mt.AddUser(tguserfake.User{ID: tguOut(r), Phone: fmt.Sprintf("+1555008%04d", r), FirstName: "Out", LastName: strconv.Itoa(r)})
		e.mt.AddUser(tguserfake.User{ID: tguIn(r), Phone: fmt.Sprintf("+1555009%04d", r), FirstName: "In", LastName: strconv.Itoa(r)})
		e.mt.AddContact(tguBob, tguOut(r))
	}
}

// tguLoginBoth logs alice and bob in to their Telegram accounts.
func tguLoginBoth(t *testing.T, e *faultEnv) {
	for user, phone := range map[string]string{"alice": "+15550007001", "bob": "+15550007002"} {
		c := xmpptest.DialT(t, e.p.C2SAddr, jid.MustParse(user+"@example.test/login"), "pw")
		tgLoginAt(t, e.mt, c, phone, "")
		c.Close()
	}
}

// tguSupergroup is the supergroup of tgUserChannelNet.
var tguSupergroup int64

// tgUserChannelNet is tgUserNet with inbound from a supergroup of alice's
// (its own message ids and pts, read with getChannelDifference) that
// faultRemotes others write to.
var tgUserChannelNet = faultNet{
	mtproto: true,
	group:   true,
	domain:  tgUserNet.domain,
	outJID:  tgUserNet.outJID,
	inject: func(_ context.Context, e *faultEnv, _ *faultCounters, tag string, k int, _ bool) error {
		e.mt.Post(tguIn(k), tguserfake.Peer{Channel: tguSupergroup}, fmt.Sprintf("i-%s-%d", tag, k), 0)
		return nil
	},
	holding: tgUserNet.holding,
	setup: func(t *testing.T, e *faultEnv) {
		members := []int64{tguAlice}
		for r := range faultRemotes {
			members = append(members, tguIn(r))
		}
		e.mt.AddUser(tguserfake.User{ID: tguAlice, Phone: "+15550007001", FirstName: "Alice"})
		tguAddRemotes(e)
		tguSupergroup = e.mt.AddChannel("Faults", true, tguAlice, members...)
		tguLoginBoth(t, e)
	},
}

// faultRow is one line of the table.
type faultRow struct {
	name                              string
	sent, delivered, duplicated, lost [2]int // [out, in]
	disorder                          int
	rewrites                          int // copies under the same id: see tally
	notes                             string
}

func TestFaultSuite(t *testing.T) {
	scenarios := []struct {
		name string
		net  *faultNet // nil: SMS
		// fault injects a fault, calling begin once it is in place (the
		// senders, paused halfway, then go on into it), and describes it.
		fault func(t *testing.T, e *faultEnv, c *faultCounters, begin func()) string
		// check, if set, runs once everything arrived: what else the
		// scenario must show, and a note for the table.
		check func(t *testing.T, e *faultEnv, c *faultCounters) string
	}{
		{"no fault (control)", nil, nil, nil},
		{"Prosody restarted mid-run", nil, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			begin()
			if err := e.p.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
			return "Prosody restarted once"
		}, nil},
		{"provider 500/429 for 2 s", nil, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			var n500, n429 atomic.Int64
			until := time.Now().Add(2 * time.Second)
			e.twilio.OnSend(func(twiliofake.Message) *twiliofake.APIError {
				if time.Now().After(until) {
					return nil
				}
				if n500.Load() <= n429.Load() {
					n500.Add(1)
					return &twiliofake.APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}
				}
				n429.Add(1)
				return &twiliofake.APIError{Status: 429, Code: 20429, Message: "Too Many Requests"}
			})
			begin()
			time.Sleep(time.Until(until))
			return fmt.Sprintf("provider answered %d x 500, %d x 429", n500.Load(), n429.Load())
		}, nil},
		{"provider without a message list, 500 for 2 s", nil, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			// A Twilio-compatible API with only POST Messages.json: the
			// check before a send of unknown outcome is repeated cannot be
			// made. Its 500s take nothing, so no resend is a duplicate.
			e.twilio.SetListStatus(http.StatusMethodNotAllowed)
			var n500 atomic.Int64
			until := time.Now().Add(2 * time.Second)
			e.twilio.OnSend(func(twiliofake.Message) *twiliofake.APIError {
				if time.Now().After(until) {
					return nil
				}
				n500.Add(1)
				return &twiliofake.APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}
			})
			begin()
			time.Sleep(time.Until(until))
			return fmt.Sprintf("GET Messages.json answered 405 throughout; sends answered %d x 500, none taken", n500.Load())
		}, func(t *testing.T, e *faultEnv, c *faultCounters) string {
			// A failed check delays a message, never drops it: no error
			// answer, and every resend without a check logged and counted.
			if n := c.refusedXMPP.Load(); n != 0 {
				t.Errorf("the sender got %d error answers %v; want none", n, c.seen())
			}
			_, body := get(e.public + "/metrics")
			unchecked := metricValue(body, `xmppgw_unchecked_resends_total{transport="sms"}`)
			warned := strings.Count(e.logs.String(), "cannot be checked at the provider")
			lists := e.twilio.Lists()
			if unchecked == 0 || unchecked != warned || unchecked != lists {
				t.Errorf("%d lists refused, %d unchecked resends counted, %d logged; want as many, and some", lists, unchecked, warned)
			}
			return fmt.Sprintf("%d sends repeated without a check (xmppgw_unchecked_resends_total), %d error answers", unchecked, c.refusedXMPP.Load())
		}},
		{"gateway SIGKILLed, restarted", nil, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			begin()
			time.Sleep(20 * time.Millisecond) // in the thick of it
			e.stopGateway(syscall.SIGKILL)
			time.Sleep(300 * time.Millisecond)
			e.startGateway()
			return "killed once, same store"
		}, nil},
		{"webhooks replayed 3 times", nil, nil, nil},
		{"Telegram: Bot API 429 and 502", &telegramNet, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			e.tg.Fail("sendMessage", 20, 429, "Too Many Requests: retry after 1", 1)
			e.tg.Fail("getUpdates", 3, 502, "Bad Gateway", 0)
			begin()
			return "20 sendMessage answered 429 (retry_after 1), 3 getUpdates answered 502"
		}, nil},
		{"Telegram: gateway restarted (SIGTERM)", &telegramNet, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			begin()
			time.Sleep(20 * time.Millisecond)
			e.stopGateway(syscall.SIGTERM)
			e.startGateway()
			return "polling resumed from the stored offset"
		}, nil},
		{"Telegram user: gateway SIGKILLed, restarted", &tgUserNet,
			tguKill("killed once; sessions resumed from the store, updates read with getDifference from the stored state"), nil},
		{"Telegram user: MTProto connections cut", &tgUserNet, tguCut, nil},
		{"Telegram user: a supergroup, gateway SIGKILLed", &tgUserChannelNet,
			tguKill("killed once; the supergroup read with getChannelDifference from its stored pts"), nil},
		{"Telegram user: a supergroup, MTProto connections cut", &tgUserChannelNet, tguCut, nil},
		{"Telegram user: FLOOD_WAIT", &tgUserNet, func(t *testing.T, e *faultEnv, _ *faultCounters, begin func()) string {
			e.mt.FloodWait(tg.MessagesSendMessageRequestTypeID, 1, 20)
			e.mt.FloodWait(tg.UpdatesGetDifferenceRequestTypeID, 1, 5)
			begin()
			return "20 sendMessage and 5 getDifference answered FLOOD_WAIT_1"
		}, nil},
		{"store disk full for 2 s", nil, func(t *testing.T, e *faultEnv, c *faultCounters, begin func()) string {
			e.fileLimit("1")
			begin()
			time.Sleep(2 * time.Second)
			e.fileLimit("unlimited")
			// Intake must have refused loudly, and only in the two ways
			// that make senders retry.
			seen := c.seen()
			if seen["xmpp wait/resource-constraint"] == 0 || seen["webhook 503"] == 0 || len(seen) != 2 {
				t.Errorf("refusals while the disk was full: %v; want only wait/resource-constraint and 503", seen)
			}
			return fmt.Sprintf("while full: %d x XMPP wait/resource-constraint, %d x webhook 503",
				seen["xmpp wait/resource-constraint"], seen["webhook 503"])
		}, nil},
	}
	var rows []faultRow
	for _, sc := range scenarios {
		ok := t.Run(sc.name, func(t *testing.T) {
			net := sc.net
			if net == nil {
				net = &smsNet
			}
			e := startFaultEnv(t, net)
			rows = append(rows, runFaultScenario(t, e, net, sc.name, sc.fault, sc.check, sc.name == "webhooks replayed 3 times"))
		})
		if !ok {
			break
		}
	}
	table := formatFaultTable(rows)
	t.Log("\n" + table)
	if path := os.Getenv("XMPPGW_FAULT_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// faultCounters are what the senders saw.
type faultCounters struct {
	refusedXMPP atomic.Int64 // XMPP error answers to our messages (resent later)
	refusedHook atomic.Int64 // webhook answers other than 200 (retried, as Twilio does)
	resentBatch atomic.Int64

	mu    sync.Mutex
	kinds map[string]int  // "xmpp wait/resource-constraint", "webhook 503", ...
	again map[string]bool // messages that got an error answer and were sent again
}

func (c *faultCounters) saw(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kinds == nil {
		c.kinds = map[string]int{}
	}
	c.kinds[kind]++
}

// resent notes a message the sender must send again (its id is its body).
func (c *faultCounters) resent(body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.again == nil {
		c.again = map[string]bool{}
	}
	c.again[body] = true
}

func (c *faultCounters) wasResent(body string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.again[body]
}

func (c *faultCounters) seen() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.kinds {
		out[k] = v
	}
	return out
}

func runFaultScenario(t *testing.T, e *faultEnv, net *faultNet, name string, fault func(*testing.T, *faultEnv, *faultCounters, func()) string,
	check func(*testing.T, *faultEnv, *faultCounters) string, replay bool) faultRow {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tag := strings.Trim(strings.Fields(name)[0], ":")
	var c faultCounters
	in := newTally()
	recvCtx, stopRecv := context.WithCancel(ctx)
	recvDone := make(chan struct{})
	go func() { defer close(recvDone); receiveInbound(recvCtx, e, net, tag, in) }()

	// Both senders pause halfway until the fault is in place.
	var halfway sync.WaitGroup
	halfway.Add(2)
	begun := make(chan struct{})
	if fault == nil {
		close(begun)
	}
	half := func() { halfway.Done(); <-begun }
	errs := make(chan error, 2)
	go func() { errs <- sendOutbound(ctx, e, net, tag, &c, half) }()
	go func() { errs <- postInbound(ctx, e, net, tag, &c, replay, half) }()
	halfway.Wait()
	notes := ""
	if fault != nil {
		notes = fault(t, e, &c, sync.OnceFunc(func() { close(begun) }))
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Everything was accepted; wait for it to arrive, then a little more
	// for late duplicates.
	outTally := func() *tally { return net.holding(e, tag) }
	for ctx.Err() == nil && (outTally().distinct() < faultN || in.distinct() < faultN) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	stopRecv()
	<-recvDone
	out := outTally()
	row := faultRow{name: name, notes: notes}
	row.sent = [2]int{faultN, faultN}
	for i, tl := range []*tally{out, in} {
		row.delivered[i] = tl.distinct()
		row.duplicated[i] = tl.duplicates()
		row.rewrites += tl.rewrites()
		row.lost[i] = faultN - tl.distinct()
		dir := "o-"
		if i == 1 {
			dir = "i-"
		}
		late := tl.late(func(k int) bool { return c.wasResent(fmt.Sprintf("%s%s-%d", dir, tag, k)) })
		if len(late) > 0 {
			t.Logf("%s: out of order, %s: %v", name, dir, late)
		}
		row.disorder += len(late)
	}
	if n := c.resentBatch.Load(); n > 0 {
		row.notes = strings.TrimSpace(row.notes + fmt.Sprintf("; XMPP client resent %d batches after %d error answers", n, c.refusedXMPP.Load()))
	}
	if n := c.refusedHook.Load(); n > 0 {
		row.notes = strings.TrimSpace(row.notes + fmt.Sprintf("; %d webhook posts refused and retried", n))
	}
	if replay {
		row.notes = "each webhook posted 4 times, all answered 200"
	}
	if check != nil {
		row.notes += "; " + check(t, e, &c)
	}
	log := e.logs.String()
	var said []string
	for _, c := range []struct{ line, what string }{
		{"duplicate inbound message ignored", "replayed webhooks ignored"},
		{"message resent by the client; already queued", "resent stanzas queued once"},
		{"not repeated", "sends of unknown outcome found at Twilio, not repeated"},
		{"cannot be checked at the provider", "sends of unknown outcome repeated unchecked"},
	} {
		if n := strings.Count(log, c.line); n > 0 {
			said = append(said, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	if len(said) > 0 {
		row.notes += "; gateway log: " + strings.Join(said, ", ")
	}
	row.notes = strings.TrimPrefix(row.notes, "; ")
	if row.lost != [2]int{} || row.duplicated != [2]int{} || row.disorder != 0 {
		t.Errorf("%s: lost %v, duplicated %v, out of order %d (out, in)", name, row.lost, row.duplicated, row.disorder)
	}
	return row
}

// sendOutbound sends faultN messages as bob to faultRemotes numbers, in
// batches. A batch counts as accepted when a ping to the gateway, sent after
// it, is answered and none of its messages got an error; otherwise it is
// sent again, with the same ids, as a client would after a reconnect.
func sendOutbound(ctx context.Context, e *faultEnv, net *faultNet, tag string, c *faultCounters, half func()) error {
	var cl *xmpptest.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for b := 0; b < faultN; b += faultBatch {
		if b == faultN/2 {
			half()
		}
		for attempt := 0; ; attempt++ {
			if ctx.Err() != nil {
				return fmt.Errorf("outbound: batch %d not accepted: %w", b, ctx.Err())
			}
			if cl == nil {
				var err error
				if cl, err = xmpptest.Dial(ctx, e.p.C2SAddr, jid.MustParse("bob@example.test/faults"), "pw"); err != nil {
					time.Sleep(200 * time.Millisecond)
					continue
				}
			}
			ok, alive := sendBatch(ctx, cl, net, tag, b, attempt, c)
			if ok {
				break
			}
			c.resentBatch.Add(1)
			// Every message of the batch goes again: a retransmission, which
			// no order holds for against the messages sent once after it.
			for k := b; k < b+faultBatch; k++ {
				c.resent(fmt.Sprintf("o-%s-%d", tag, k))
			}
			if !alive {
				cl.Close()
				cl = nil
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	return nil
}

// sendBatch sends one batch and its ping; it reports whether the batch was
// accepted and whether the connection is still usable.
func sendBatch(ctx context.Context, cl *xmpptest.Client, net *faultNet, tag string, b, attempt int, c *faultCounters) (ok, alive bool) {
	for k := b; k < b+faultBatch; k++ {
		body := fmt.Sprintf("o-%s-%d", tag, k)
		if err := cl.Send(ctx, `<message type="chat" id="`+body+`" to="`+net.outJID(k)+`"><body>`+body+`</body></message>`); err != nil {
			return false, false
		}
	}
	pingID := fmt.Sprintf("ack-%s-%d-%d", tag, b, attempt)
	if err := cl.Send(ctx, `<iq type="get" id="`+pingID+`" to="`+net.domain+`"><ping xmlns="urn:xmpp:ping"/></iq>`); err != nil {
		return false, false
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	refused := false
	for {
		st, err := cl.Next(wctx)
		if err != nil {
			return false, errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && false
		}
		switch {
		case st.Name == "message" && st.Type == "error" && strings.HasPrefix(st.ID, "o-"+tag+"-"):
			c.refusedXMPP.Add(1)
			c.saw("xmpp " + st.ErrorType + "/" + st.ErrorCondition)
			c.resent(st.ID)
			refused = true
		case st.Name == "iq" && st.ID == pingID:
			return st.Type == "result" && !refused, true
		}
	}
}

// postInbound has the provider deliver faultN messages, one sender per
// contact each in order; each is retried until accepted, as Twilio does.
func postInbound(ctx context.Context, e *faultEnv, net *faultNet, tag string, c *faultCounters, replay bool, half func()) error {
	var posted atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, faultRemotes)
	for r := range faultRemotes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := r; k < faultN; k += faultRemotes {
				if err := net.inject(ctx, e, c, tag, k, replay); err != nil {
					errs <- err
					return
				}
				if posted.Add(1) >= faultN/2 {
					once.Do(half) // every sender waits here until the fault is in place
				}
			}
		}()
	}
	wg.Wait()
	once.Do(half)
	close(errs)
	return <-errs
}

// receiveInbound reads alice's messages until ctx ends, logging in again
// whenever her connection is lost (Prosody keeps what arrives meanwhile).
func receiveInbound(ctx context.Context, e *faultEnv, net *faultNet, tag string, in *tally) {
	for ctx.Err() == nil {
		cl, err := xmpptest.Dial(ctx, e.p.C2SAddr, jid.MustParse("alice@example.test/faults"), "pw")
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for {
			st, err := cl.Next(ctx)
			if err != nil {
				break
			}
			body, remote := st.Body, strings.TrimSuffix(st.From, "@"+net.domain)
			if i := strings.Index(body, ": i-"+tag+"-"); net.group && i > 0 {
				// "Sender: text", from the group: the order that holds
				// is each sender's (they write concurrently).
				body, remote = body[i+2:], remote+"/"+body[:i]
			}
			if st.Name == "message" && st.Type == "chat" && strings.HasPrefix(body, "i-"+tag+"-") {
				in.add(remote, body, st.ID)
			}
		}
		cl.Close()
	}
}

// tally counts messages by body (each message has its own) and by id, and
// remembers each contact's order. A copy under a new id is a duplicate the
// user sees twice; a copy under the same id (XMPP stanza id and XEP-0359
// origin-id) is a rewrite that clients recognise as the same message.
type tally struct {
	mu     sync.Mutex
	copies map[string]map[string]int // body -> id -> copies
	order  map[string][]int          // remote -> message numbers in arrival order
}

func newTally() *tally { return &tally{copies: map[string]map[string]int{}, order: map[string][]int{}} }

func (t *tally) add(remote, body, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.copies[body] == nil {
		t.copies[body] = map[string]int{}
		k, _ := strconv.Atoi(body[strings.LastIndexByte(body, '-')+1:])
		t.order[remote] = append(t.order[remote], k)
	}
	t.copies[body][id]++
}

func (t *tally) distinct() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.copies)
}

// duplicates counts copies under ids other than a message's first.
func (t *tally) duplicates() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ids := range t.copies {
		n += len(ids) - 1
	}
	return n
}

// rewrites counts extra copies under the same id.
func (t *tally) rewrites() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ids := range t.copies {
		for _, c := range ids {
			n += c - 1
		}
	}
	return n
}

// late describes the messages that arrived after a later one from the same
// contact (other than those resent), with the arrivals around each.
func (t *tally) late(resent func(k int) bool) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for remote, ks := range t.order {
		prev := -1
		for i, k := range ks {
			if resent(k) {
				continue
			}
			if k < prev {
				out = append(out, fmt.Sprintf("%s: %d after %d (arrivals %v)", remote, k, prev, ks[max(0, i-4):min(len(ks), i+3)]))
			}
			prev = max(prev, k)
		}
	}
	return out
}

// metricValue returns the value of the sample named name (with its
// labels) in a Prometheus text exposition, or -1 if there is none.
func metricValue(body, name string) int {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}

func formatFaultTable(rows []faultRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault suite: %d messages each way per scenario (out = XMPP -> SMS, in = SMS -> XMPP), real Prosody, gateway process\n\n", faultN)
	fmt.Fprintf(&b, "| scenario | sent out/in | delivered out/in | duplicated out/in | lost out/in | out of order | same-id rewrites | notes |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d/%d | %d/%d | %d/%d | %d/%d | %d | %d | %s |\n", r.name,
			r.sent[0], r.sent[1], r.delivered[0], r.delivered[1], r.duplicated[0], r.duplicated[1],
			r.lost[0], r.lost[1], r.disorder, r.rewrites, r.notes)
	}
	b.WriteString("\nout of order: a message that arrived after a later one of the same contact (messages the sender\n" +
		"itself resent after an error answer reached the gateway late, and are not counted).\n")
	b.WriteString("duplicated: a message delivered again under a new id (a second SMS, or a second XMPP message the user sees).\n" +
		"same-id rewrites: a stanza written again after the server or the gateway died between routing it and\n" +
		"confirming it (XEP-0114 has no acknowledgements); it carries the same id and XEP-0359 origin-id.\n")
	return b.String()
}
