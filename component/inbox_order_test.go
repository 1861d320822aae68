package component

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/internal/logbuf"
	"xmppgw/transports"
)

// Bob is in the team inbox. Alice has a slow step in flight (an answer to
// an alert, "silence K4 2h", which waits on Alertmanager), then joins the
// inbox: her join is done at once, its answers wait behind that step. She
// answers Dana from the room, which goes out as SMS, and Dana texts back.
// Bob sees her come and her answer at once, then Dana's reply: the
// history's order. Alice gets nothing of the room before her join's
// answers, then her answer and Dana's reply, in that order.
func TestInboxSeenInHistoryOrderWhileAJoinIsHeld(t *testing.T) {
	var logs logbuf.Buffer
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	g, srv, tr := runningTeamInbox(t, &logs, heldDesk{hold})
	t.Cleanup(release) // before Run's end, which waits for the step
	const alice, bob = "alice@example.test/pc", "bob@example.test/pc"
	joinInbox(t, srv, bob, "bob")
	srv.in <- `<message type="chat" id="s1" from="` + alice + `" to="sms.example.test"><body>silence K4 2h</body></message>` +
		`<presence from="` + alice + `" to="oncall@sms.example.test/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>`
	eventually(t, "alice's join done", func() bool {
		return strings.Contains(logs.String(), `"user joined a room" transport=sms room=oncall jid=`+alice)
	})
	srv.in <- `<message type="groupchat" id="a1" from="` + alice + `" to="oncall@sms.example.test"><body>+15557654321: on my way</body></message>`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tr.Wait(ctx, 1); err != nil {
		t.Fatalf("alice's answer never went out: %v", err)
	}
	answer := `<message type="groupchat" id="a1" from="oncall@sms.example.test/alice" to="%s"><body>to +15557654321: on my way</body><stanza-id xmlns="urn:xmpp:sid:0" id="a1" by="oncall@sms.example.test"></stanza-id></message>`
	eventually(t, "bob sees alice's answer while her step is held", func() bool {
		return strings.Contains(strings.Join(writtenTo(srv, bob), ""), "on my way")
	})
	if err := g.Deliver(context.Background(), transports.Inbound{Account: "+15550009999", From: "+15557654321", ID: "SM0123456789abcdef0123456789abcdef", Body: "thanks, see you"}); err != nil {
		t.Fatal(err)
	}
	reply := `<message type="groupchat" id="SM0123456789abcdef0123456789abcdef" from="oncall@sms.example.test/+15557654321" to="%s"><body>thanks, see you</body><origin-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef"></origin-id><stanza-id xmlns="urn:xmpp:sid:0" id="SM0123456789abcdef0123456789abcdef" by="oncall@sms.example.test"></stanza-id></message>`
	eventually(t, "bob sees Dana's reply", func() bool { return len(writtenTo(srv, bob)) == 5 })
	if got := writtenTo(srv, alice); len(got) != 0 {
		t.Errorf("alice got %q before her join's answers", got)
	}
	release()
	eventually(t, "alice's answers written", func() bool { return len(writtenTo(srv, alice)) == 5 })
	for _, c := range []struct {
		to   string
		want []string
	}{
		{bob, []string{fmt.Sprintf(inboxSelf, "bob", bob), fmt.Sprintf(inboxSubject, bob), fmt.Sprintf(inboxPeer, "alice", bob), fmt.Sprintf(answer, bob), fmt.Sprintf(reply, bob)}},
		{alice, []string{fmt.Sprintf(inboxPeer, "bob", alice), fmt.Sprintf(inboxSelf, "alice", alice), fmt.Sprintf(inboxSubject, alice), fmt.Sprintf(answer, alice), fmt.Sprintf(reply, alice)}},
	} {
		if got := writtenTo(srv, c.to); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s got\n%s\nwant\n%s", c.to, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
