package component

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A member's client numbers stanza ids from 1 on each connection (simple
// scripts and bots). It answers two people from the inbox, on two
// connections, both with id "1": both go out as SMS, and the room's
// history, which bob gets on joining, keeps both.
func TestInboxAnswersUnderOneIDBothInHistory(t *testing.T) {
	_, srv, tr := runningTeamInbox(t, io.Discard, heldDesk{make(chan struct{})})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, c := range []struct{ full, body string }{
		{"alice@example.test/c1", "+15557654321: on my way"},
		{"alice@example.test/c2", "+15550004444: db2 restarted"},
	} {
		joinInbox(t, srv, c.full, "alice")
		srv.in <- `<message type="groupchat" id="1" from="` + c.full + `" to="oncall@sms.example.test"><body>` + c.body + `</body></message>`
		if _, err := tr.Wait(ctx, i+1); err != nil {
			t.Fatal(err)
		}
		// Reflected once kept in the history.
		reflection := `<body>to ` + c.body + `</body><stanza-id xmlns="urn:xmpp:sid:0" id="1" by="oncall@sms.example.test"></stanza-id></message>`
		eventually(t, "reflected", func() bool { return strings.Contains(strings.Join(writtenTo(srv, c.full), ""), reflection) })
		srv.in <- `<presence type="unavailable" from="` + c.full + `" to="oncall@sms.example.test/alice"/>`
		// Her leave is answered before bob joins: he finds the room empty.
		eventually(t, "left", func() bool {
			return strings.Contains(strings.Join(writtenTo(srv, c.full), ""), `<presence type="unavailable" from="oncall@sms.example.test/alice"`)
		})
	}
	const bob = "bob@example.test/pc"
	joinInbox(t, srv, bob, "bob")
	stamp := regexp.MustCompile(`stamp="[0-9T:.Z-]+"`)
	var got []string
	for _, s := range writtenTo(srv, bob) {
		got = append(got, stamp.ReplaceAllString(s, `stamp="T"`))
	}
	hist := `<message type="groupchat" id="1" from="oncall@sms.example.test/alice" to="bob@example.test/pc"><body>to %s</body><stanza-id xmlns="urn:xmpp:sid:0" id="1" by="oncall@sms.example.test"></stanza-id><delay xmlns="urn:xmpp:delay" stamp="T" from="oncall@sms.example.test"></delay></message>`
	want := []string{fmt.Sprintf(inboxSelf, "bob", bob), fmt.Sprintf(hist, "+15557654321: on my way"), fmt.Sprintf(hist, "+15550004444: db2 restarted"), fmt.Sprintf(inboxSubject, bob)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("bob's join got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
