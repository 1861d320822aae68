package component

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"xmppgw/transports"
)

// Alice's client resends her inbox answer (the same id, origin-id and
// text: its stream broke before the server acked it): one SMS goes out,
// bob sees the answer once, and alice's client, which may not have had
// the first reflection, gets it again.
func TestInboxResendShownAgainToSenderOnly(t *testing.T) {
	_, srv, tr := runningTeamInbox(t, io.Discard, heldDesk{make(chan struct{})})
	const alice, bob = "alice@example.test/pc", "bob@example.test/pc"
	joinInbox(t, srv, alice, "alice")
	joinInbox(t, srv, bob, "bob")
	m := `<message type="groupchat" id="9f1c2e" from="` + alice + `" to="oncall@sms.example.test"><body>+15557654321: on my way</body><origin-id xmlns="urn:xmpp:sid:0" id="9f1c2e"/></message>`
	answer := `<message type="groupchat" id="9f1c2e" from="oncall@sms.example.test/alice" to="%s"><body>to +15557654321: on my way</body><stanza-id xmlns="urn:xmpp:sid:0" id="9f1c2e" by="oncall@sms.example.test"></stanza-id></message>`
	seen := func(to, text string) int { return strings.Count(strings.Join(writtenTo(srv, to), ""), text) }
	srv.in <- m
	eventually(t, "bob got the answer", func() bool { return seen(bob, "on my way") == 1 })
	srv.in <- m // the resend
	eventually(t, "alice got the resend's reflection", func() bool { return seen(alice, "on my way") == 2 })
	srv.in <- `<message type="groupchat" id="m2" from="` + alice + `" to="oncall@sms.example.test"><body>+15557654321: there in 5</body></message>`
	eventually(t, "both got the next answer", func() bool { return seen(bob, "there in 5") == 1 && seen(alice, "there in 5") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tr.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	next := `<message type="groupchat" id="m2" from="oncall@sms.example.test/alice" to="%s"><body>to +15557654321: there in 5</body><stanza-id xmlns="urn:xmpp:sid:0" id="m2" by="oncall@sms.example.test"></stanza-id></message>`
	for _, c := range []struct {
		to   string
		want []string
	}{
		{bob, []string{fmt.Sprintf(inboxPeer, "alice", bob), fmt.Sprintf(inboxSelf, "bob", bob), fmt.Sprintf(inboxSubject, bob), fmt.Sprintf(answer, bob), fmt.Sprintf(next, bob)}},
		{alice, []string{fmt.Sprintf(inboxSelf, "alice", alice), fmt.Sprintf(inboxSubject, alice), fmt.Sprintf(inboxPeer, "bob", alice),
			fmt.Sprintf(answer, alice), fmt.Sprintf(answer, alice), fmt.Sprintf(next, alice)}},
	} {
		if got := writtenTo(srv, c.to); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s got\n%s\nwant\n%s", c.to, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	if sent := tr.Sent(); len(sent) != 2 {
		t.Errorf("SMS sent: %+v; want the answer once, and the next", sent)
	}
}

// Alice texts Dana one-to-one from her own number, "on my way" under id
// "1", then answers Dana from the team inbox with the same text, from a
// client that numbers its ids from 1 too. The answer is another message,
// sent from the inbox's number: it goes out as an SMS of its own, and bob
// sees it, as alice does.
func TestInboxAnswerAfterTheSameOneToOneText(t *testing.T) {
	_, srv, tr := runningTeamInboxOf(t, io.Discard, heldDesk{make(chan struct{})}, map[string]transports.Addr{"alice@example.test": "+15550001111"})
	const alice, bob = "alice@example.test/pc", "bob@example.test/pc"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.in <- `<message type="chat" id="1" from="alice@example.test/phone" to="+15557654321@sms.example.test"><body>on my way</body></message>`
	if _, err := tr.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	joinInbox(t, srv, alice, "alice")
	joinInbox(t, srv, bob, "bob")
	srv.in <- `<message type="groupchat" id="1" from="` + alice + `" to="oncall@sms.example.test"><body>+15557654321: on my way</body></message>`
	sent, err := tr.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("the inbox's answer never went out: %v (sent %+v)", err, tr.Sent())
	}
	for i, want := range []transports.Addr{"+15550001111", "+15550009999"} {
		if sent[i].Account != want || sent[i].To != "+15557654321" || sent[i].Body != "on my way" {
			t.Errorf("SMS %d: %+v; want on my way to +15557654321 from %s", i, sent[i], want)
		}
	}
	answer := `<message type="groupchat" id="1" from="oncall@sms.example.test/alice" to="%s"><body>to +15557654321: on my way</body><stanza-id xmlns="urn:xmpp:sid:0" id="1" by="oncall@sms.example.test"></stanza-id></message>`
	eventually(t, "both see the answer", func() bool { return len(writtenTo(srv, bob)) == 4 && len(writtenTo(srv, alice)) == 4 })
	for _, c := range []struct {
		to   string
		want []string
	}{
		{bob, []string{fmt.Sprintf(inboxPeer, "alice", bob), fmt.Sprintf(inboxSelf, "bob", bob), fmt.Sprintf(inboxSubject, bob), fmt.Sprintf(answer, bob)}},
		{alice, []string{fmt.Sprintf(inboxSelf, "alice", alice), fmt.Sprintf(inboxSubject, alice), fmt.Sprintf(inboxPeer, "bob", alice), fmt.Sprintf(answer, alice)}},
	} {
		if got := writtenTo(srv, c.to); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s got\n%s\nwant\n%s", c.to, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
