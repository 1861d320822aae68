package component

import (
	"context"
	"strings"
	"testing"
)

// A sender who may not use the gateway gets the same answers for a team
// inbox's room name (oncall) as for any other name (oncal1), whatever the
// stanza: nothing tells them which names are inboxes. Each answer is
// compared with the name replaced, what is queued included.
func TestInboxNamesHiddenFromOutsiders(t *testing.T) {
	probes := []string{
		`<presence id="i" from="F" to="T@sms.example.test/m"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<presence id="i" from="F" to="T@sms.example.test"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
		`<presence type="unavailable" id="i" from="F" to="T@sms.example.test/m"/>`,
		`<presence type="subscribe" id="i" from="F" to="T@sms.example.test"/>`,
		`<presence type="probe" id="i" from="F" to="T@sms.example.test"/>`,
		`<message type="groupchat" id="i" from="F" to="T@sms.example.test"><body>x</body></message>`,
		`<message type="chat" id="i" from="F" to="T@sms.example.test"><body>x</body></message>`,
		`<message type="chat" id="i" from="F" to="T@sms.example.test/m"><body>x</body></message>`,
		`<message type="groupchat" id="i" from="F" to="T@sms.example.test/m"><body>x</body></message>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test"><vCard xmlns="vcard-temp"/></iq>`,
		`<iq type="set" id="i" from="F" to="T@sms.example.test"><query xmlns="urn:xmpp:mam:2"/></iq>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test/m"><ping xmlns="urn:xmpp:ping"/></iq>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
		`<iq type="get" id="i" from="F" to="T@sms.example.test"><query xmlns="http://jabber.org/protocol/muc#owner"/></iq>`,
	}
	for _, from := range []string{"mallory@evil.test/x", "eve@example.com/y"} {
		for i, p := range probes {
			answers := map[string][]string{}
			for _, name := range []string{"oncall", "oncal1"} {
				g, store := inboxGateway(t)
				in := strings.ReplaceAll(strings.ReplaceAll(p, `from="F"`, `from="`+from+`"`), "T@", name+"@")
				out := handle(t, g, in)
				q, _ := store.ToXMPP().Pending(context.Background(), "sms", 100)
				for _, s := range q {
					out += " QUEUED:" + string(s.Stanza)
				}
				out = strings.ReplaceAll(out, name, "T")
				answers[out] = append(answers[out], name)
			}
			if len(answers) > 1 {
				var b strings.Builder
				for a, names := range answers {
					b.WriteString("\n  " + strings.Join(names, ",") + ": " + a)
				}
				t.Errorf("%s, probe %d: %s%s", from, i, p, b.String())
			}
		}
	}
}

// A sender not allowed is refused a join, and a groupchat message, with
// forbidden, before the target is looked up: a room's name, an inbox's or
// a contact's.
func TestOutsiderJoinsForbidden(t *testing.T) {
	g, _ := inboxGateway(t)
	for i, to := range []string{"oncall@sms.example.test", "+15557654321@sms.example.test", "nobody@sms.example.test"} {
		for _, tt := range []struct{ in, out string }{
			{`<presence id="j" from="mallory@evil.test/x" to="` + to + `/m"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
				`<presence type="error" id="j" from="` + to + `/m" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></presence>`},
			{`<message type="groupchat" id="g" from="mallory@evil.test/x" to="` + to + `"><body>x</body></message>`,
				`<message type="error" id="g" from="` + to + `" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></message>`},
		} {
			if got := handle(t, g, tt.in); got != tt.out {
				t.Errorf("%d: wrote\n%s\nwant\n%s", i, got, tt.out)
			}
		}
	}
}

// Allowed users' answers about an inbox are as before: a member joins, an
// allowed user who is no member is told the room is members only.
func TestInboxAnswersToAllowedUsers(t *testing.T) {
	g, _ := inboxGateway(t)
	if out := handle(t, g, `<presence id="j1" from="alice@example.test/pc" to="oncall@sms.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); !strings.Contains(out, "<subject>Team inbox +15550009999</subject>") {
		t.Errorf("a member's join: %s", out)
	}
	const want = `<presence type="error" id="j2" from="oncall@sms.example.test/bo" to="bob@example.test/pc"><error type="auth"><registration-required ` + errNS + `></registration-required><text ` + errNS + `>this room is the team inbox of +15550009999; only its members may join</text></error></presence>`
	if out := handle(t, g, `<presence id="j2" from="bob@example.test/pc" to="oncall@sms.example.test/bo"><x xmlns="http://jabber.org/protocol/muc"/></presence>`); out != want {
		t.Errorf("a non-member's join:\n%s\nwant\n%s", out, want)
	}
}
