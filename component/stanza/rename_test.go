package stanza

import "testing"

// RenameDomain moves the JIDs of one domain to another: the stanza's own
// from, and with nested every attribute holding one; nothing else changes,
// byte for byte.
func TestRenameDomain(t *testing.T) {
	const old, repl = "smss.example.com", "sms.example.com"
	tests := []struct {
		in     string
		nested bool
		want   string
		n      int
	}{
		0: {`<message type="chat" from="+15557654321@smss.example.com" to="alice@example.com" id="m1"><body>write to x@smss.example.com</body></message>`, true,
			`<message type="chat" from="+15557654321@sms.example.com" to="alice@example.com" id="m1"><body>write to x@smss.example.com</body></message>`, 1},
		1: {`<presence from="room@smss.example.com/Bob" to="alice@example.com/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item jid="+15557654321@smss.example.com/x" affiliation="member"/></x></presence>`, true,
			`<presence from="room@sms.example.com/Bob" to="alice@example.com/pc"><x xmlns="http://jabber.org/protocol/muc#user"><item jid="+15557654321@sms.example.com/x" affiliation="member"/></x></presence>`, 2},
		2: {`<message from="smss.example.com" to="alice@example.com"><body>hi</body></message>`, true,
			`<message from="sms.example.com" to="alice@example.com"><body>hi</body></message>`, 1},
		3: {`<message from="smss.example.com" to="example.com"><privilege xmlns="urn:xmpp:privilege:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="alice@example.com/pc" to="+1555@smss.example.com" type="chat"><body>x</body></message></forwarded></privilege></message>`, true,
			`<message from="sms.example.com" to="example.com"><privilege xmlns="urn:xmpp:privilege:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="alice@example.com/pc" to="+1555@sms.example.com" type="chat"><body>x</body></message></forwarded></privilege></message>`, 2},
		4: {`<message from="smss.example.com" to="example.com"><privilege xmlns="urn:xmpp:privilege:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="alice@example.com/pc" to="+1555@smss.example.com" type="chat"><body>x</body></message></forwarded></privilege></message>`, false,
			`<message from="sms.example.com" to="example.com"><privilege xmlns="urn:xmpp:privilege:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="alice@example.com/pc" to="+1555@smss.example.com" type="chat"><body>x</body></message></forwarded></privilege></message>`, 1},
		5: {`<message from="+1@sms.example.com" to="alice@example.com" id="a&amp;b"><body>x</body></message>`, true,
			`<message from="+1@sms.example.com" to="alice@example.com" id="a&amp;b"><body>x</body></message>`, 0},
		6: {`<message from="+1@smss.example.com" to="alice@example.com" id="a&amp;b&#34;c"><body>x</body></message>`, true,
			`<message from="+1@sms.example.com" to="alice@example.com" id="a&amp;b&#34;c"><body>x</body></message>`, 1},
		7: {`<message from="+1@SMSS.example.com" to="x@smss.example.com.evil"><reply xmlns="urn:xmpp:reply:0" to="+1@smss.example.com/r" id="m0"/></message>`, true,
			`<message from="+1@sms.example.com" to="x@smss.example.com.evil"><reply xmlns="urn:xmpp:reply:0" to="+1@sms.example.com/r" id="m0"/></message>`, 2},
		8: {`<iq type="set" id="r1" from="smss.example.com" to="alice@example.com"><query xmlns="jabber:iq:roster"><item jid="+1555@smss.example.com" name="Bob"><group>SMS</group></item></query></iq>`, true,
			`<iq type="set" id="r1" from="sms.example.com" to="alice@example.com"><query xmlns="jabber:iq:roster"><item jid="+1555@sms.example.com" name="Bob"><group>SMS</group></item></query></iq>`, 2},
	}
	for i, tt := range tests {
		got, n, err := RenameDomain([]byte(tt.in), old, repl, tt.nested)
		if err != nil || string(got) != tt.want || n != tt.n {
			t.Errorf("%d: got (%v, %d)\n%s\nwant (%d)\n%s", i, err, n, got, tt.n, tt.want)
		}
	}
	if _, _, err := RenameDomain([]byte(`<message from="+1@smss.example.com"><body>`), old, repl, true); err == nil {
		t.Error("no error for a stanza cut short")
	}
}
