package component

import (
	"context"
	"strings"
	"testing"
)

const (
	errNS = `xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"`
)

var handleTests = []struct {
	in, out string
	job     bool // a job for +15551234567 is queued
}{
	0: { // a chat message from a user with a number becomes a job, silently
		in:  `<message type="chat" id="m0" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>disk full</body></message>`,
		job: true,
	},
	1: { // type-less (normal) messages too
		in:  `<message id="m1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>disk full</body></message>`,
		job: true,
	},
	2: {
		in:  `<message type="chat" id="m2" from="mallory@evil.test/x" to="+15551234567@sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m2" from="+15551234567@sms.example.test" to="mallory@evil.test/x"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></message>`,
	},
	3: {
		in:  `<message type="chat" id="m3" from="alice@example.test/phone" to="12ab@sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m3" from="12ab@sms.example.test" to="alice@example.test/phone"><error type="modify"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>fake: &#34;12ab&#34; is not an E.164 number</text></error></message>`,
	},
	4: {
		in:  `<message type="chat" id="m4" from="bob@example.test/pc" to="+15551234567@sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m4" from="+15551234567@sms.example.test" to="bob@example.test/pc"><error type="auth"><registration-required ` + errNS + `></registration-required><text ` + errNS + `>bob@example.test has no SMS account on this gateway; ask the operator to add one</text></error></message>`,
	},
	5: {
		in:  `<message type="groupchat" id="m5" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m5" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="cancel"><feature-not-implemented ` + errNS + `></feature-not-implemented><text ` + errNS + `>only chat and normal messages are relayed</text></error></message>`,
	},
	6: { // chat state only: nothing to relay, nothing to answer
		in: `<message type="chat" id="m6" from="alice@example.test/phone" to="+15551234567@sms.example.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
	},
	7: { // errors are never answered
		in: `<message type="error" id="m7" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>x</body></message>`,
	},
	8: {
		in:  `<message type="chat" id="m8" from="alice@example.test/phone" to="sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m8" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>write to NUMBER@sms.example.test to reach a contact; this is the gateway itself</text></error></message>`,
	},
	9: {
		in:  `<iq type="get" id="i9" from="alice@example.test/phone" to="sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		out: `<iq type="result" id="i9" from="sms.example.test" to="alice@example.test/phone"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="gateway" type="sms" name="SMS gateway"></identity><feature var="http://jabber.org/protocol/address"></feature><feature var="http://jabber.org/protocol/commands"></feature><feature var="http://jabber.org/protocol/disco#info"></feature><feature var="http://jabber.org/protocol/disco#items"></feature><feature var="jabber:iq:gateway"></feature><feature var="jabber:iq:register"></feature><feature var="jabber:iq:version"></feature><feature var="urn:xmpp:ping"></feature><feature var="urn:xmpp:receipts"></feature></query></iq>`,
	},
	10: {
		in:  `<iq type="get" id="i10" from="alice@example.test/phone" to="+15551234567@sms.example.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		out: `<iq type="result" id="i10" from="+15551234567@sms.example.test" to="alice@example.test/phone"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="phone"></identity><feature var="http://jabber.org/protocol/disco#info"></feature><feature var="urn:xmpp:chat-markers:0"></feature><feature var="urn:xmpp:reactions:0"></feature><feature var="urn:xmpp:receipts"></feature><feature var="vcard-temp"></feature></query></iq>`,
	},
	11: {
		in:  `<iq type="get" id="i11" from="alice@example.test/phone" to="sms.example.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
		out: `<iq type="result" id="i11" from="sms.example.test" to="alice@example.test/phone"></iq>`,
	},
	12: {
		in:  `<iq type="get" id="i12" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:version"/></iq>`,
		out: `<iq type="result" id="i12" from="sms.example.test" to="alice@example.test/phone"><query xmlns="jabber:iq:version"><name>xmppgw</name><version>test</version></query></iq>`,
	},
	13: {
		in:  `<iq type="get" id="i13" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:gateway"/></iq>`,
		out: `<iq type="result" id="i13" from="sms.example.test" to="alice@example.test/phone"><query xmlns="jabber:iq:gateway"><desc>Enter a phone number</desc><prompt>Phone number</prompt></query></iq>`,
	},
	14: {
		in:  `<iq type="set" id="i14" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:gateway"><prompt>+15551234567</prompt></query></iq>`,
		out: `<iq type="result" id="i14" from="sms.example.test" to="alice@example.test/phone"><query xmlns="jabber:iq:gateway"><jid>+15551234567@sms.example.test</jid></query></iq>`,
	},
	15: {
		in:  `<iq type="set" id="i15" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:gateway"><prompt>call me</prompt></query></iq>`,
		out: `<iq type="error" id="i15" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>fake: &#34;call me&#34; is not an E.164 number</text></error></iq>`,
	},
	16: {
		in:  `<iq type="get" id="i16" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:roster"/></iq>`,
		out: `<iq type="error" id="i16" from="sms.example.test" to="alice@example.test/phone"><error type="cancel"><service-unavailable ` + errNS + `></service-unavailable></error></iq>`,
	},
	17: {
		in:  `<presence type="subscribe" id="p17" from="alice@example.test/phone" to="+15551234567@sms.example.test"/>`,
		out: `<presence type="subscribed" id="p17" from="+15551234567@sms.example.test" to="alice@example.test"></presence><presence from="+15551234567@sms.example.test" to="alice@example.test"></presence>`,
	},
	18: {
		in:  `<presence type="probe" from="alice@example.test" to="+15551234567@sms.example.test"/>`,
		out: `<presence from="+15551234567@sms.example.test" to="alice@example.test"></presence>`,
	},
	19: {
		in:  `<presence type="subscribe" from="mallory@evil.test" to="+15551234567@sms.example.test"/>`,
		out: `<presence type="error" from="+15551234567@sms.example.test" to="mallory@evil.test"><error type="auth"><forbidden ` + errNS + `></forbidden><text ` + errNS + `>mallory@evil.test may not use this gateway</text></error></presence>`,
	},
	20: {
		in:  `<presence type="unsubscribe" from="alice@example.test" to="+15551234567@sms.example.test"/>`,
		out: `<presence type="unsubscribed" from="+15551234567@sms.example.test" to="alice@example.test"></presence>`,
	},
	21: { // a recipient on another domain (misrouted)
		in:  `<message type="chat" id="m21" from="alice@example.test/phone" to="bob@example.test"><body>hi</body></message>`,
		out: `<message type="error" id="m21" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>invalid recipient address</text></error></message>`,
	},
	22: { // ids the store could not index are refused (message_limits.go)
		in:  `<message type="chat" id="` + strings.Repeat("i", maxIDLen+1) + `" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>hi</body></message>`,
		out: `<message type="error" id="` + strings.Repeat("i", maxIDLen+1) + `" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>a message id (or one it refers to) is longer than 256 bytes</text></error></message>`,
	},
	23: {
		in:  `<message type="chat" id="m23" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="` + strings.Repeat("o", 3000) + `"/></message>`,
		out: `<message type="error" id="m23" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>a message id (or one it refers to) is longer than 256 bytes</text></error></message>`,
	},
	24: {
		in:  `<message type="chat" id="m24" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="` + strings.Repeat("r", 300) + `"/></message>`,
		out: `<message type="error" id="m24" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>a message id (or one it refers to) is longer than 256 bytes</text></error></message>`,
	},
	25: {
		in:  `<message type="chat" id="` + strings.Repeat("i", maxIDLen) + `" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>hi</body></message>`,
		job: true,
	},
	26: {
		in:  `<message type="chat" id="m26" from="alice@example.test/phone" to="+15551234567@sms.example.test">` + strings.Repeat(`<x xmlns="jabber:x:oob"><url>https://files.example.org/a.jpg</url></x>`, maxAttachments+1) + `</message>`,
		out: `<message type="error" id="m26" from="+15551234567@sms.example.test" to="alice@example.test/phone"><error type="modify"><policy-violation ` + errNS + `></policy-violation><text ` + errNS + `>a message may carry at most 10 attachments</text></error></message>`,
	},
	27: {
		in:  `<message type="chat" id="m27" from="alice@example.test/phone" to="+15551234567@sms.example.test">` + strings.Repeat(`<x xmlns="jabber:x:oob"><url>https://files.example.org/a.jpg</url></x>`, maxAttachments) + `</message>`,
		job: true,
	},
	// An IQ result or error is never answered with an error (RFC 6120
	// 8.2.3), nor is a headline (RFC 6121 5.2.2): misrouted...
	28: {in: `<iq type="result" id="i28" from="alice@example.test/phone" to="bob@example.test"/>`},
	29: {in: `<iq type="error" id="i29" from="alice@example.test/phone" to="bob@example.test"><error type="cancel"><item-not-found ` + errNS + `/></error></iq>`},
	30: {in: `<message type="headline" id="m30" from="alice@example.test/phone" to="bob@example.test"><body>hi</body></message>`},
	// ...over the size limit...
	31: {in: `<iq type="result" id="i31" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:version"><name>` + overLimit + `</name></query></iq>`},
	32: {in: `<iq type="error" id="i32" from="alice@example.test/phone" to="sms.example.test"><error type="cancel"><item-not-found ` + errNS + `/><text ` + errNS + `>` + overLimit + `</text></error></iq>`},
	33: {in: `<message type="headline" id="m33" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>` + overLimit + `</body></message>`},
	34: { // (a request over it is refused)
		in:  `<iq type="get" id="i34" from="alice@example.test/phone" to="sms.example.test"><query xmlns="jabber:iq:version"><name>` + overLimit + `</name></query></iq>`,
		out: `<iq type="error" id="i34" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><policy-violation ` + errNS + `></policy-violation><text ` + errNS + `>stanza over the gateway&#39;s limit of 65536 bytes</text></error></iq>`,
	},
	// ...or from an address the gateway cannot parse.
	35: {in: `<iq type="result" id="i35" from="a@b@c" to="sms.example.test"/>`},
}

// overLimit makes a stanza over the default size limit.
var overLimit = strings.Repeat("x", DefaultMaxStanza)

func TestHandle(t *testing.T) {
	for i, tc := range handleTests {
		g, _, store := testGateway(t)
		if out := handle(t, g, tc.in); out != tc.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, out, tc.out)
		}
		jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(jobs) == 1 && jobs[0].Remote == "+15551234567"; got != tc.job || len(jobs) > 1 {
			t.Errorf("%d: queued %+v, want a job: %v", i, jobs, tc.job)
		}
	}
}

func TestHandleQueuesJob(t *testing.T) {
	g, _, store := testGateway(t)
	handle(t, g, `<message type="chat" id="r1" from="alice@example.test/phone" to="+15551234567@sms.example.test"><body>disk full</body><request xmlns="urn:xmpp:receipts"/></message>`)
	jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %v, %v", jobs, err)
	}
	j := jobs[0]
	if j.Sender != "alice@example.test/phone" || j.Account != "+15550001111" || j.Remote != "+15551234567" ||
		j.Body != "disk full" || j.StanzaID != "r1" || !j.Receipt {
		t.Errorf("job %+v", j)
	}
}

// An admin without a number is the operator: the refusal names the key
// to set, and says that an admin's messages go from the admin's own number.
func TestHandleAdminWithoutNumber(t *testing.T) {
	g, _, _ := testGateway(t)
	g.o.Admin = func(b string) bool { return b == "bob@example.test" }
	want := `<message type="error" id="m1" from="+15551234567@sms.example.test" to="bob@example.test/pc"><error type="auth"><registration-required ` + errNS + `></registration-required>` +
		`<text ` + errNS + `>bob@example.test has no SMS account on transport &#34;sms&#34;: add it to that transport&#39;s numbers (an admin&#39;s messages, test messages too, go out from the admin&#39;s own number)</text></error></message>`
	if out := handle(t, g, `<message type="chat" id="m1" from="bob@example.test/pc" to="+15551234567@sms.example.test"><body>hi</body></message>`); out != want {
		t.Errorf("wrote\n%s\nwant\n%s", out, want)
	}
}
