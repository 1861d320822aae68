package stanza

import "testing"

func TestRender(t *testing.T) {
	body := "hi"
	tests := []struct {
		v    any
		want string
	}{
		0: {Message{Type: "chat", ID: "m1", From: "+15551234567@sms.example.test", To: "alice@example.test", Body: body,
			OriginID: &OriginID{ID: "m1"}, Received: &Receipt{ID: "a1"}},
			`<message type="chat" id="m1" from="+15551234567@sms.example.test" to="alice@example.test"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="m1"></origin-id><received xmlns="urn:xmpp:receipts" id="a1"></received></message>`},
		1: {Presence{From: "g@muc.test/n", To: "alice@example.test/x", MUCUser: &MUCUser{Item: MUCItem{Affiliation: "member", Role: "participant"}, Status: []MUCStatus{{Code: 110}}}},
			`<presence from="g@muc.test/n" to="alice@example.test/x"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item><status code="110"></status></x></presence>`},
		2: {IQ{Type: "error", ID: "q", From: "sms.example.test", To: "a@b/c", Error: NewError("cancel", "item-not-found", "no")},
			`<iq type="error" id="q" from="sms.example.test" to="a@b/c"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no</text></error></iq>`},
		3: {NewError("wait", "resource-constraint", ""),
			`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint></error>`},
	}
	for i, tt := range tests {
		if got := string(Render(tt.v)); got != tt.want {
			t.Errorf("%d: got\n%s\nwant\n%s", i, got, tt.want)
		}
	}
}

func TestFormValues(t *testing.T) {
	f := &Form{Fields: []FormField{{Var: "a", Values: []string{" x ", "", "y"}}, {Var: "b"}}}
	if got := f.Values("a"); len(got) != 2 || got[0] != "x" || got[1] != "y" {
		t.Errorf("Values(a) = %q", got)
	}
	if f.Value("b") != "" || (*Form)(nil).Value("a") != "" {
		t.Error("Value of an empty field or a nil form is not empty")
	}
}
