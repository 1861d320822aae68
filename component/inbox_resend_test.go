package component

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
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
