package component

import (
	"context"
	"testing"
)

const addrNS = `xmlns="http://jabber.org/protocol/address"`

// TestMulticast: an XEP-0033 group text to the gateway JID becomes one job
// per contact; a bad address refuses the whole message, naming it.
func TestMulticast(t *testing.T) {
	tests := []struct {
		name, in, out string
		remotes       []string // jobs queued, in order
	}{
		{"to, cc and bcc; duplicates and delivered addresses skipped",
			`<message type="chat" id="g1" from="alice@example.test/phone" to="sms.example.test"><body>standup in 5</body><addresses ` + addrNS + `><address type="to" jid="+15551234567@sms.example.test"/><address type="cc" jid="+15557654321@sms.example.test"/><address type="bcc" jid="+15551234567@sms.example.test"/><address type="to" jid="+15550000000@sms.example.test" delivered="true"/><address type="replyto" jid="alice@example.test"/></addresses></message>`,
			``, []string{"+15551234567", "+15557654321"}},
		{"a foreign JID",
			`<message type="chat" id="g2" from="alice@example.test/phone" to="sms.example.test"><body>x</body><addresses ` + addrNS + `><address type="to" jid="+15551234567@sms.example.test"/><address type="to" jid="bob@example.test"/></addresses></message>`,
			`<message type="error" id="g2" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><not-acceptable ` + errNS + `></not-acceptable><text ` + errNS + `>&#34;bob@example.test&#34; is not a contact of sms.example.test; this gateway delivers to its own contacts only</text></error></message>`,
			nil},
		{"not a JID",
			`<message type="chat" id="g6" from="alice@example.test/phone" to="sms.example.test"><body>x</body><addresses ` + addrNS + `><address type="to" jid="+1 555@sms.example.test"/></addresses></message>`,
			`<message type="error" id="g6" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>&#34;+1 555@sms.example.test&#34; is not a valid JID</text></error></message>`,
			nil},
		{"a bad number",
			`<message type="chat" id="g3" from="alice@example.test/phone" to="sms.example.test"><body>x</body><addresses ` + addrNS + `><address type="to" jid="+15551234567@sms.example.test"/><address type="to" jid="12ab@sms.example.test"/></addresses></message>`,
			`<message type="error" id="g3" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><jid-malformed ` + errNS + `></jid-malformed><text ` + errNS + `>12ab@sms.example.test: fake: &#34;12ab&#34; is not an E.164 number</text></error></message>`,
			nil},
		{"no recipient",
			`<message type="chat" id="g4" from="alice@example.test/phone" to="sms.example.test"><body>x</body><addresses ` + addrNS + `><address type="replyto" jid="alice@example.test"/></addresses></message>`,
			`<message type="error" id="g4" from="sms.example.test" to="alice@example.test/phone"><error type="modify"><bad-request ` + errNS + `></bad-request><text ` + errNS + `>no recipient: list contacts as to, cc or bcc addresses (XEP-0033)</text></error></message>`,
			nil},
		{"a user without a number",
			`<message type="chat" id="g5" from="bob@example.test/pc" to="sms.example.test"><body>x</body><addresses ` + addrNS + `><address type="to" jid="+15551234567@sms.example.test"/></addresses></message>`,
			`<message type="error" id="g5" from="sms.example.test" to="bob@example.test/pc"><error type="auth"><registration-required ` + errNS + `></registration-required><text ` + errNS + `>bob@example.test has no SMS account on this gateway; ask the operator to add one</text></error></message>`,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, store := testGateway(t)
			if got := handle(t, g, tt.in); got != tt.out {
				t.Errorf("wrote\n%s\nwant\n%s", got, tt.out)
			}
			jobs, err := store.Jobs().Pending(context.Background(), "sms", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range jobs {
				got = append(got, j.Remote)
				if j.Body != "standup in 5" || j.Account != "+15550001111" || j.StanzaID != "g1" {
					t.Errorf("job %+v", j)
				}
			}
			if len(got) != len(tt.remotes) || (len(got) > 0 && (got[0] != tt.remotes[0] || got[1] != tt.remotes[1])) {
				t.Errorf("jobs for %v, want %v", got, tt.remotes)
			}
		})
	}
}
