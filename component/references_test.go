package component

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// drain waits until the store holds no job of g's transport.
func drain(t *testing.T, ctx context.Context, store *mapping.Store) {
	t.Helper()
	for ctx.Err() == nil {
		if jobs, _ := store.Jobs().Pending(ctx, "sms", 0, 10); len(jobs) == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("jobs still queued")
}

// References (corrections, retractions, reactions, replies) resolve by the
// stanza id or the XEP-0359 origin-id of the message they name, a
// correction's ids included, as Converse.js sends them. A reference to a
// message not known here is refused with item-not-found, and nothing is
// sent for it.
func TestReferencesByOriginID(t *testing.T) {
	c := &costly{limit: 100}
	var mu sync.Mutex
	var calls []transports.Outbound
	c.SendFunc = func(out transports.Outbound) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, out)
		if out.Replaces != "" {
			return out.Replaces, nil // an edit keeps the message's id
		}
		return "R" + string(rune('0'+len(calls))), nil
	}
	g, store := costlyGateway(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go g.dispatchLoop(ctx)

	const head = `<message type="chat" from="alice@example.test/web" to="+15551234567@sms.example.test" `
	steps := []struct {
		in   string
		want transports.Outbound // the Send it causes (ID not compared)
	}{
		0: {head + `id="s1"><body>helo</body><origin-id xmlns="urn:xmpp:sid:0" id="o1"/></message>`,
			transports.Outbound{Body: "helo"}},
		1: {head + `id="s2"><body>hello</body><replace xmlns="urn:xmpp:message-correct:0" id="o1"/><origin-id xmlns="urn:xmpp:sid:0" id="o2"/></message>`,
			transports.Outbound{Body: "hello", Replaces: "R1"}},
		2: {head + `id="s3"><reactions xmlns="urn:xmpp:reactions:0" id="o2"><reaction>👍</reaction></reactions></message>`,
			transports.Outbound{ReactTo: "R1", Reactions: []string{"👍"}}},
		3: {head + `id="s4"><body>yes</body><reply xmlns="urn:xmpp:reply:0" id="s2"/><origin-id xmlns="urn:xmpp:sid:0" id="o4"/></message>`,
			transports.Outbound{Body: "yes", ReplyTo: "R1"}},
		4: {head + `id="s5"><body>/me retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="o2"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:message-retract:1"/><origin-id xmlns="urn:xmpp:sid:0" id="o5"/></message>`,
			transports.Outbound{Retracts: "R1"}},
	}
	for i, st := range steps {
		if out := handle(t, g, st.in); out != "" {
			t.Fatalf("%d: answered %s", i, out)
		}
		drain(t, ctx, store)
		mu.Lock()
		if len(calls) != i+1 {
			t.Fatalf("%d: %d sends, want %d", i, len(calls), i+1)
		}
		got := calls[i]
		mu.Unlock()
		got.ID, got.Account, got.To = "", "", ""
		if got.Body != st.want.Body || got.Replaces != st.want.Replaces || got.ReactTo != st.want.ReactTo ||
			got.ReplyTo != st.want.ReplyTo || got.Retracts != st.want.Retracts || len(got.Reactions) != len(st.want.Reactions) {
			t.Errorf("%d: sent %+v, want %+v", i, got, st.want)
		}
	}

	// Unknown references: refused, nothing sent.
	refused := []struct{ in, out string }{
		0: {head + `id="u1"><body>/me retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="nope"/></message>`,
			`<message type="error" id="u1" from="+15551234567@sms.example.test" to="alice@example.test/web"><error type="cancel" by="sms.example.test"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">that message is not known here</text></error></message>`},
		1: {head + `id="u2"><body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="nope"/></message>`,
			`<message type="error" id="u2" from="+15551234567@sms.example.test" to="alice@example.test/web"><error type="cancel" by="sms.example.test"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">that message is not known here</text></error></message>`},
		2: {head + `id="u3"><body> </body></message>`,
			`<message type="error" id="u3" from="+15551234567@sms.example.test" to="alice@example.test/web"><error type="modify" by="sms.example.test"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></not-acceptable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">the message has nothing to send</text></error></message>`},
	}
	for i, r := range refused {
		before := queued(t, store)
		if out := handle(t, g, r.in); out != "" {
			t.Fatalf("refused %d: answered %s", i, out)
		}
		drain(t, ctx, store)
		if got := queued(t, store)[len(before):]; got != r.out {
			t.Errorf("refused %d: queued\n%s\nwant\n%s", i, got, r.out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != len(steps) {
		t.Errorf("%d sends after the refusals, want %d: %+v", len(calls), len(steps), calls[len(steps):])
	}
}

// A reaction or a retraction never stands for the message it refers to,
// whatever id the transport's Send answers it with: "" (the contract), an
// id of its own (SMS says a reaction in words), or (against the contract)
// the id of the message it refers to. Afterwards, a correction and a
// retraction of the message reacted to find it, and a contact's replies to
// it, or to the contact's message the user reacted to, refer to them.
func TestReferencesAfterReaction(t *testing.T) {
	const head = `<message type="chat" from="alice@example.test/web" to="+15551234567@sms.example.test" `
	in := []string{
		head + `id="s1"><body>helo</body></message>`,
		head + `id="s2"><reactions xmlns="urn:xmpp:reactions:0" id="s1"><reaction>👍</reaction></reactions></message>`,
		head + `id="s3"><reactions xmlns="urn:xmpp:reactions:0" id="in-1"><reaction>👀</reaction></reactions></message>`,
		head + `id="s4"><body>hello</body><replace xmlns="urn:xmpp:message-correct:0" id="s1"/></message>`,
		head + `id="s5"><retract xmlns="urn:xmpp:message-retract:1" id="s1"/></message>`,
	}
	// What the contact's replies to R1 and to in-1 become.
	const replies = `<message type="chat" id="in-2" from="+15551234567@sms.example.test" to="alice@example.test"><body>re helo</body><reply xmlns="urn:xmpp:reply:0" id="s1" to="alice@example.test"></reply><origin-id xmlns="urn:xmpp:sid:0" id="in-2"></origin-id></message>` +
		`<message type="chat" id="in-3" from="+15551234567@sms.example.test" to="alice@example.test"><body>see above</body><reply xmlns="urn:xmpp:reply:0" id="in-1" to="+15551234567@sms.example.test"></reply><origin-id xmlns="urn:xmpp:sid:0" id="in-3"></origin-id></message>`
	cases := []struct {
		name  string
		react func(out transports.Outbound, n int) string // Send's id for a reaction or a retraction
	}{
		0: {"no id", func(transports.Outbound, int) string { return "" }},
		1: {"an id of its own", func(_ transports.Outbound, n int) string { return "R" + strconv.Itoa(n) }},
		2: {"the id referred to", func(out transports.Outbound, _ int) string { return out.ReactTo + out.Retracts }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &costly{limit: 100}
			var mu sync.Mutex
			var sends []string
			c.SendFunc = func(out transports.Outbound) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				sends = append(sends, fmt.Sprintf("body=%q replaces=%q react=%q %q retracts=%q", out.Body, out.Replaces, out.ReactTo, out.Reactions, out.Retracts))
				switch {
				case out.ReactTo != "" || out.Retracts != "":
					return tc.react(out, len(sends)), nil
				case out.Replaces != "":
					return out.Replaces, nil // an edit keeps the message's id
				}
				return "R" + strconv.Itoa(len(sends)), nil
			}
			g, store := costlyGateway(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go g.dispatchLoop(ctx)
			for k, st := range in {
				if out := handle(t, g, st); out != "" {
					t.Fatalf("%d: stanza %d answered %s", i, k, out)
				}
				drain(t, ctx, store)
			}
			for _, r := range []transports.Inbound{
				{Account: "+15550001111", From: "+15551234567", ID: "in-2", Body: "re helo", ReplyTo: "R1"},
				{Account: "+15550001111", From: "+15551234567", ID: "in-3", Body: "see above", ReplyTo: "in-1"},
			} {
				if err := g.Deliver(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{
				`body="helo" replaces="" react="" [] retracts=""`,
				`body="" replaces="" react="R1" ["👍"] retracts=""`,
				`body="" replaces="" react="in-1" ["👀"] retracts=""`,
				`body="hello" replaces="R1" react="" [] retracts=""`,
				`body="" replaces="" react="" [] retracts="R1"`,
			}
			mu.Lock()
			got := strings.Join(sends, "\n")
			mu.Unlock()
			if got != strings.Join(want, "\n") {
				t.Errorf("%d: sent\n%s\nwant\n%s", i, got, strings.Join(want, "\n"))
			}
			if q := queued(t, store); q != replies {
				t.Errorf("%d: to the user\n%s\nwant\n%s", i, q, replies)
			}
		})
	}
}

// A client whose stanza ids started over (simple clients reuse ids) means
// its last message of an id: a retraction, a correction, a reaction or a
// reply to that id acts on it, not on the first ever sent with it.
func TestReferencesToAReusedID(t *testing.T) {
	const head = `<message type="chat" from="alice@example.test/web" to="+15551234567@sms.example.test" `
	cases := []struct {
		ref  string // the reference to id 1, after R1 and R2 were sent with it
		want string // the send it causes
	}{
		0: {`id="1"><body>/me retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="1"/></message>`, `retracts="R2"`},
		1: {`id="3"><body>second!</body><replace xmlns="urn:xmpp:message-correct:0" id="1"/></message>`, `body="second!" replaces="R2"`},
		2: {`id="3"><reactions xmlns="urn:xmpp:reactions:0" id="1"><reaction>👍</reaction></reactions></message>`, `react="R2"`},
		3: {`id="3"><body>yes</body><reply xmlns="urn:xmpp:reply:0" id="1"/></message>`, `body="yes" reply="R2"`},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := &costly{limit: 100}
			var mu sync.Mutex
			var sends []string
			c.SendFunc = func(out transports.Outbound) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				var s []string
				for _, f := range [][2]string{{"body", out.Body}, {"replaces", out.Replaces}, {"retracts", out.Retracts}, {"react", out.ReactTo}, {"reply", out.ReplyTo}} {
					if f[1] != "" {
						s = append(s, f[0]+"="+strconv.Quote(f[1]))
					}
				}
				sends = append(sends, strings.Join(s, " "))
				return "R" + strconv.Itoa(len(sends)), nil
			}
			g, store := costlyGateway(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go g.dispatchLoop(ctx)
			for k, in := range []string{
				head + `id="1"><body>first message</body></message>`,  // R1
				head + `id="1"><body>second message</body></message>`, // R2: the ids started over
				head + tc.ref,
			} {
				if out := handle(t, g, in); out != "" {
					t.Fatalf("%d: stanza %d answered %s", i, k, out)
				}
				drain(t, ctx, store)
				time.Sleep(2 * time.Millisecond) // recorded in distinct milliseconds
			}
			mu.Lock()
			defer mu.Unlock()
			if len(sends) != 3 || sends[2] != tc.want {
				t.Errorf("%d: sent %q; want the third %s", i, sends, tc.want)
			}
		})
	}
}
