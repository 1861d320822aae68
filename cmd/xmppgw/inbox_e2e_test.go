//go:build integration

package main

import (
	"regexp"
	"strings"
	"testing"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

// A team inbox through Prosody: texts to the inbox's number appear in the
// room oncall@sms.example.test for the members there, under the address
// book's name or the number; a member answers by replying to a text or by
// starting with a number, and the answer goes out from the inbox's number
// and shows in the room with who wrote it and to whom; a message for nobody
// gets a hint; a stranger cannot join; the room's archive answers XEP-0313.
func TestInbox(t *testing.T) {
	const (
		inboxNum = "+15550009999"
		room     = "oncall@sms.example.test"
		dana     = "+15557654321"
		unknown  = "+15550004444"
	)
	e := startEnv(t, envOptions{contacts: map[string]string{dana: "Dana Scully"},
		inboxes: []gwtest.Inbox{{Number: inboxNum, Room: "oncall", Members: []string{"alice@example.test", "bob@example.test"}}}})
	ctx := testCtx(t)
	alice, bob, mallory := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "mallory")
	inRoom := func(s xmpptest.Stanza) bool { return strings.HasPrefix(s.From, room) }
	join := func(c *xmpptest.Client, nick string) {
		t.Helper()
		if err := c.Send(ctx, `<presence to="`+room+`/`+nick+`"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
			t.Fatal(err)
		}
		subj := nextWhere(t, c, "the subject", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Subject != "" })
		if subj.Subject != "Team inbox "+inboxNum {
			t.Errorf("%s: subject %q", nick, subj.Subject)
		}
	}
	join(alice, "alice")
	join(bob, "bob")
	// alice sees bob come.
	if p := nextWhere(t, alice, "bob's presence", inRoom); p.Name != "presence" || p.From != room+"/bob" {
		t.Errorf("alice got %s", p.XML)
	}

	// A stranger is not let in.
	if err := mallory.Send(ctx, `<presence id="j1" to="`+room+`/mallory"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); err != nil {
		t.Fatal(err)
	}
	if p := nextWhere(t, mallory, "the refusal", inRoom); p.Type != "error" || !strings.Contains(p.XML, "<forbidden") {
		t.Errorf("mallory got %s", p.XML)
	}

	// Dana texts the inbox: both members see it, under her name.
	hook := e.public + "/hooks/sms/inbound"
	sid, status, err := e.twilio.SendInbound(ctx, hook, dana, inboxNum, "db1 is down again")
	if err != nil || status != 200 {
		t.Fatalf("Dana's text: %d %v", status, err)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		m := nextWhere(t, c, "Dana's text", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "message" })
		if m.Type != "groupchat" || m.From != room+"/Dana Scully" || m.Body != "db1 is down again" || !strings.Contains(m.XML, `id="`+sid+`"`) {
			t.Errorf("%s got %s", c.JID, m.XML)
		}
	}
	// A number nobody named shows as itself.
	if _, status, err := e.twilio.SendInbound(ctx, hook, unknown, inboxNum, "who is this?"); err != nil || status != 200 {
		t.Fatalf("the unknown text: %d %v", status, err)
	}
	if m := nextWhere(t, alice, "the unknown text", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "message" }); m.From != room+"/"+unknown {
		t.Errorf("alice got %s", m.XML)
	}
	nextWhere(t, bob, "the unknown text", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "message" })

	// bob answers Dana by replying to her text (XEP-0461).
	if err := bob.Send(ctx, `<message type="groupchat" id="b1" to="`+room+`"><body>on it</body><reply xmlns="urn:xmpp:reply:0" id="`+sid+`" to="`+room+`/Dana Scully"/></message>`); err != nil {
		t.Fatal(err)
	}
	sms, err := e.twilio.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := sms[0]; m.From != inboxNum || m.To != dana || m.Body != "on it" {
		t.Errorf("Twilio got %+v", m)
	}
	shown := "to Dana Scully (" + dana + "): on it"
	for _, c := range []*xmpptest.Client{alice, bob} {
		m := nextWhere(t, c, "bob's answer", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "message" && s.Type == "groupchat" })
		if m.From != room+"/bob" || m.Body != shown {
			t.Errorf("%s saw %s", c.JID, m.XML)
		}
	}

	// alice writes to a number of her choice.
	if err := alice.Send(ctx, `<message type="groupchat" id="a1" to="`+room+`"><body>`+unknown+`: this is the on-call team</body></message>`); err != nil {
		t.Fatal(err)
	}
	sms, err = e.twilio.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m := sms[1]; m.From != inboxNum || m.To != unknown || m.Body != "this is the on-call team" {
		t.Errorf("Twilio got %+v", m)
	}
	if m := nextWhere(t, alice, "alice's answer", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "message" && s.Type == "groupchat" }); m.From != room+"/alice" ||
		m.Body != "to "+unknown+": this is the on-call team" {
		t.Errorf("alice saw %s", m.XML)
	}

	// A number that cannot get texts: the member who wrote is told, as
	// for a one-to-one text.
	e.twilio.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
		if m.To == "+15550008888" {
			return &twiliofake.APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
		}
		return nil
	})
	if err := bob.Send(ctx, `<message type="groupchat" id="b2" to="`+room+`"><body>+1 555 000 8888: hello</body></message>`); err != nil {
		t.Fatal(err)
	}
	if m := nextWhere(t, bob, "the failure", from("+15550008888@sms.example.test", "message", "error")); !strings.Contains(m.XML, "21610") {
		t.Errorf("bob was told %s", m.XML)
	}

	// A message for nobody: a hint, and nothing is sent.
	if err := alice.Send(ctx, `<message type="groupchat" id="a2" to="`+room+`"><body>hello?</body></message>`); err != nil {
		t.Fatal(err)
	}
	if m := nextWhere(t, alice, "the hint", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Type == "error" }); !strings.Contains(m.XML, "<bad-request") ||
		!strings.Contains(m.XML, "whom is this for? Reply to one of their texts, or start with their number") {
		t.Errorf("alice got %s", m.XML)
	}

	// Hostile values: a page size that is no number, a reply to nothing.
	// Each is refused; the stream stays (the archive below answers).
	if err := alice.Send(ctx, `<iq type="set" id="bad1" to="`+room+`"><query xmlns="urn:xmpp:mam:2"><set xmlns="http://jabber.org/protocol/rsm"><max>x</max></set></query></iq>`); err != nil {
		t.Fatal(err)
	}
	if s := nextWhere(t, alice, "the bad page's refusal", func(s xmpptest.Stanza) bool { return s.ID == "bad1" }); s.ErrorCondition != "bad-request" {
		t.Errorf("a page size of x: %s", s.XML)
	}
	if err := alice.Send(ctx, `<message type="groupchat" id="bad2" to="`+room+`"><body>&lt;b&gt;hi</body><reply xmlns="urn:xmpp:reply:0" id="no-such-text"/></message>`); err != nil {
		t.Fatal(err)
	}
	if s := nextWhere(t, alice, "the hint", func(s xmpptest.Stanza) bool { return s.ID == "bad2" && s.Type == "error" }); s.ErrorCondition != "bad-request" {
		t.Errorf("a reply to nothing: %s", s.XML)
	}

	// The room's archive (XEP-0313), for a member.
	if err := alice.Send(ctx, `<iq type="set" id="mam1" to="`+room+`"><query xmlns="urn:xmpp:mam:2" queryid="q1"/></iq>`); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for {
		s := nextWhere(t, alice, "the archive", func(s xmpptest.Stanza) bool {
			return inRoom(s) && (s.Name == "iq" || strings.Contains(s.XML, "urn:xmpp:mam:2"))
		})
		if s.Name == "iq" {
			if s.Type != "result" || !regexp.MustCompile(`<fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><first[^>]*>`+sid+`</first><last[^>]*>b2</last><count[^>]*>5</count></set></fin>`).MatchString(s.XML) {
				t.Errorf("the archive's end: %s", s.XML)
			}
			break
		}
		from := regexp.MustCompile(`<forwarded xmlns="urn:xmpp:forward:0">.*<message [^>]*from="([^"]*)"`).FindStringSubmatch(s.XML)
		body := regexp.MustCompile(`<body[^>]*>([^<]*)</body>`).FindStringSubmatch(s.XML)
		if from == nil || body == nil || !strings.Contains(s.XML, `queryid="q1"`) || !strings.Contains(s.XML, `<delay xmlns="urn:xmpp:delay" stamp=`) {
			t.Fatalf("an archived message: %s", s.XML)
		}
		bodies = append(bodies, from[1]+": "+body[1])
	}
	want := []string{room + "/Dana Scully: db1 is down again", room + "/" + unknown + ": who is this?",
		room + "/bob: " + shown, room + "/alice: to " + unknown + ": this is the on-call team", room + "/bob: to +15550008888: hello"}
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive:\n%s\nwant\n%s", strings.Join(bodies, "\n"), strings.Join(want, "\n"))
	}
	// A stranger gets nothing from it: to them the room's JID is any
	// contact's, which has no archive.
	if err := mallory.Send(ctx, `<iq type="set" id="mam2" to="`+room+`"><query xmlns="urn:xmpp:mam:2"/></iq>`); err != nil {
		t.Fatal(err)
	}
	if s := nextWhere(t, mallory, "the archive's refusal", func(s xmpptest.Stanza) bool { return inRoom(s) && s.Name == "iq" }); s.Type != "error" ||
		!strings.Contains(s.XML, "<service-unavailable") {
		t.Errorf("mallory got %s", s.XML)
	}
}
