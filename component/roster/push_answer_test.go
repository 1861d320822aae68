package roster

import (
	"context"
	"encoding/base64"
	"testing"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// signInLinked is a transport users sign in to (transports.Login): a
// refused push of one of their contacts falls back to a subscription
// request, whatever the links say.
type signInLinked struct{ *transporttest.Linked }

func (signInLinked) BeginLogin(context.Context, string) transports.Prompt { return transports.Prompt{} }
func (signInLinked) LoginAnswer(context.Context, string, string, string) (*transports.Prompt, string, error) {
	return nil, "", nil
}
func (signInLinked) Logout(context.Context, string) error { return nil }

// An error answer to a roster push is acted on only from the bare JID of
// the user the push was sent to, for a push the gateway sent (its id's
// mark): anyone else's, with that id or a forged one, queues nothing (it
// would have sent the stranger a subscription request carrying the
// address book's name for the contact).
func TestRosterPushAnswerOnlyFromItsUser(t *testing.T) {
	const contact = "+15550004444@tg.example.test"
	forged := "roster.add." + base64.RawURLEncoding.EncodeToString([]byte(contact)) + ".00"
	tests := []struct {
		name, from string
		id         func(bobs, carols string) string
		want       string
	}{
		0: {"a stranger, with bob's push's id", "mallory@evil.test", func(bobs, _ string) string { return bobs }, ``},
		1: {"another user of bob's server, with bob's push's id", "carol@example.test", func(bobs, _ string) string { return bobs }, ``},
		2: {"bob, with a forged id", "bob@example.test", func(string, string) string { return forged }, ``},
		3: {"a stranger, with a forged id", "mallory@evil.test", func(string, string) string { return forged }, ``},
		4: {"bob, with carol's push's id", "bob@example.test", func(_, carols string) string { return carols }, ``},
		5: {"bob, with bob's push's id tampered", "bob@example.test", func(bobs, _ string) string { return bobs[:len(bobs)-1] + "x" }, ``},
		6: {"bob, with his push's id", "bob@example.test", func(bobs, _ string) string { return bobs },
			`<presence type="subscribe" from="+15550004444@tg.example.test" to="bob@example.test"><nick xmlns="http://jabber.org/protocol/nick">CEO private line</nick></presence>` + "\n"},
	}
	for i, tt := range tests {
		r, c := newRosterWith(t, func(l *transporttest.Linked) transports.Transport { return signInLinked{l} })
		c.Names = map[string]string{contact: "CEO private line"}
		handle(t, r, grantRoster)
		bobs := firstPushID(t, string(render(r.AddContact(contact, "bob@example.test", ""))[0]))
		carols := firstPushID(t, string(render(r.AddContact(contact, "carol@example.test", ""))[0]))
		in := `<iq type="error" id="` + tt.id(bobs, carols) + `" from="` + tt.from + `" to="tg.example.test"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
		if out := handle(t, r, in); out != "" {
			t.Errorf("%d %s: answered %s", i, tt.name, out)
		}
		if got := pending(t, c.Store()); got != tt.want {
			t.Errorf("%d %s: queued\n%s\nwant\n%s", i, tt.name, got, tt.want)
		}
	}
}

// An answer to a push sent to a user the operator has since taken out of
// access.allow is not acted on: the fallback would send them a
// subscription request with the address book's name. coretest allows
// only @example.test, so bob@other.test stands for such a user.
func TestPushAnswerOfBarredUser(t *testing.T) {
	const contact = "+15550004444@tg.example.test"
	r, c := newRosterWith(t, func(l *transporttest.Linked) transports.Transport { return signInLinked{l} })
	c.Names = map[string]string{contact: "CEO private line"}
	if c.Allowed("bob@other.test") {
		t.Fatal("bob@other.test is allowed")
	}
	id := r.push("add", contact, "bob@other.test", item{}).ID
	handle(t, r, `<iq type="error" id="`+id+`" from="bob@other.test" to="tg.example.test"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	if got := pending(t, c.Store()); got != "" {
		t.Errorf("queued for a user not in access.allow:\n%s", got)
	}
}
