package sms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// An inbound From, its address, its contact JID (case-folded) and the
// address a reply to that JID goes to ("" for refused): numbers and short
// codes as before; a sender id is #id in lower case, to which a reply goes
// (Twilio then refuses it); any other From is an opaque sender, #From
// escaped, to which no reply goes. No JID is a team inbox room's: OnCall
// and on.call were the rooms oncall@ and on.call@.
func TestSenderAddresses(t *testing.T) {
	tr := newTestTransport(t, "https://api.twilio.com", whURL)
	for i, tt := range []struct {
		from  string
		addr  transports.Addr
		jid   string
		reply transports.Addr
	}{
		0:  {"OnCall", "#oncall", "#oncall@sms.example.test", "#oncall"},
		1:  {"oncall", "#oncall", "#oncall@sms.example.test", "#oncall"},
		2:  {"MyBank", "#mybank", "#mybank@sms.example.test", "#mybank"},
		3:  {"My Bank 24", "#my bank 24", `#my\20bank\2024@sms.example.test`, "#my bank 24"},
		4:  {"AB12", "#ab12", "#ab12@sms.example.test", "#ab12"},
		5:  {"80888", "80888", "80888@sms.example.test", "80888"},
		6:  {"+15551234567", "+15551234567", "+15551234567@sms.example.test", "+15551234567"},
		7:  {"+1 555-123-4567", "+15551234567", "+15551234567@sms.example.test", "+15551234567"},
		8:  {"5551234567", "+15551234567", "+15551234567@sms.example.test", "+15551234567"},
		9:  {"on.call", "#on.call", "#on.call@sms.example.test", ""},
		10: {"On-Call", "#On-Call", "#on-call@sms.example.test", ""},
		11: {"on_call", "#on_call", "#on_call@sms.example.test", ""},
		12: {"+12", "#+12", "#+12@sms.example.test", ""},
		13: {"808-88", "#808-88", "#808-88@sms.example.test", ""},
		14: {"#mybank", "##mybank", "##mybank@sms.example.test", ""}, // no sender id's
		15: {"#MyBank", "##MyBank", "##mybank@sms.example.test", ""},
		16: {"Bank\u00e9 @home/x", "#Bank%C3%A9%20@home/x", `#bank%c3%a9%20\40home\2fx@sms.example.test`, ""},
		17: {"My\\20Bank", `#My\20Bank`, `#my\5c20bank@sms.example.test`, ""},
		18: {strings.Repeat("\u20ac", 40), transports.Addr("#" + strings.Repeat("%E2%82%AC", 7)),
			"#" + strings.Repeat("%e2%82%ac", 7) + "@sms.example.test", ""},
	} {
		addr := senderAddr(tr, tt.from)
		if addr != tt.addr {
			t.Errorf("%d: From %q has the address %q, want %q", i, tt.from, addr, tt.addr)
			continue
		}
		j, err := mapping.ContactJID(addr, "sms.example.test")
		if err != nil || j.String() != tt.jid {
			t.Errorf("%d: %q: JID %q, %v; want %q", i, addr, j, err, tt.jid)
			continue
		}
		if roomName.MatchString(j.Localpart()) {
			t.Errorf("%d: %s is the JID of the room %s", i, j, j.Localpart())
		}
		reply, err := tr.ParseAddr(mapping.AddrOf(j))
		if reply != tt.reply || (err == nil) != (tt.reply != "") {
			t.Errorf("%d: a reply to %s goes to %q, %v; want %q", i, j, reply, err, tt.reply)
		}
	}
}

// What no sender's address is, a room name is: the local parts of the
// JIDs above (and the names they had) and numbers are refused as inbox
// rooms; the names senders had before, case-folded, are room names.
func TestNoSenderIsARoom(t *testing.T) {
	for i, tt := range []struct {
		room string
		ok   bool
	}{
		{"oncall", true}, {"on.call", true}, {"on-call", true}, {"on_call", true}, {"mybank", true},
		{"OnCall", true}, // taken in lower case
		{"#oncall", false}, {"#on.call", false}, {"##mybank", false},
		{"+15551234567", false}, {"80888", false}, {"15551234567", false}, {"#", false}, {"", false},
	} {
		s := &Settings{AccountSID: testSID, AuthToken: testToken, DefaultRegion: "US", Inboxes: []InboxSettings{
			{Number: "+15550009999", Room: tt.room, Members: []string{"alice@example.test"}}}}
		probs := s.Validate()
		if ok := len(probs) == 0; ok != tt.ok {
			t.Errorf("%d: room %q: %v, want taken %v", i, tt.room, probs, tt.ok)
		}
	}
}

// A reply to a sender id goes to Twilio as the id, without its mark;
// Twilio refuses it (sender ids take no texts), and the user is told why.
func TestSendToSenderID(t *testing.T) {
	f, base := startFake(t, testSID, testToken)
	tr := newTestTransport(t, base, publicURL)
	_, err := tr.Send(context.Background(), out("#mybank", "stop"))
	var te *transports.Error
	if !errors.As(err, &te) || te.Kind != transports.KindInvalidAddress || te.Code != "21211" ||
		te.Message != "The 'To' number mybank is not a valid phone number." {
		t.Errorf("Send to #mybank: %#v", err)
	}
	if n := len(f.Messages()); n != 0 {
		t.Errorf("the fake took %d messages", n)
	}
}

// FuzzSenderAddr: whatever the From, its address makes a JID that is no
// inbox room's, and a reply to that JID goes to the address the SMS came
// from (a number, a short code, a sender id) or is refused (an opaque
// sender), and only a sender id's address and numbers' have no "%".
func FuzzSenderAddr(f *testing.F) {
	for _, s := range []string{"OnCall", "oncall", "80888", "+15551234567", "My Bank", "on.call", "x-1", "#mybank", "+12", "808-88", "\u00e9"} {
		f.Add(s)
	}
	tr := newTestTransport(f, "https://api.twilio.com", whURL)
	f.Fuzz(func(t *testing.T, from string) {
		addr := senderAddr(tr, from)
		j, err := mapping.ContactJID(addr, "sms.example.test")
		if err != nil {
			t.Fatalf("From %q: %q makes no JID: %v", from, addr, err)
		}
		if roomName.MatchString(j.Localpart()) {
			t.Fatalf("From %q: %s is a room's JID", from, j)
		}
		reply, err := tr.ParseAddr(mapping.AddrOf(j))
		if err == nil && reply != addr {
			t.Fatalf("From %q, address %q: a reply to %s goes to %q", from, addr, j, reply)
		}
		if err != nil && !strings.HasPrefix(string(addr), senderMark) {
			t.Fatalf("From %q: no reply to the number %q: %v", from, addr, err)
		}
		if err == nil && senderID.MatchString(from) != strings.HasPrefix(string(addr), senderMark) {
			t.Fatalf("From %q: a reply to %q goes to %q", from, addr, reply)
		}
	})
}

// Senders' addresses as ParseAddr reads them when a user types or replies
// to one: a sender id's in lower case, anything else after the mark
// refused with a reason.
func TestParseSenderName(t *testing.T) {
	tr := newTestTransport(t, "https://api.twilio.com", whURL)
	for i, tt := range []struct {
		in   string
		want transports.Addr
		err  string
	}{
		0: {"#mybank", "#mybank", ""},
		1: {"#MyBank", "#mybank", ""},
		2: {"#my bank 24", "#my bank 24", ""},
		3: {"#", "", `sms: "#" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`},
		4: {"#on.call", "", `sms: "#on.call" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`},
		5: {"#12345", "", `sms: "#12345" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`},
		6: {"#+15551234567", "", `sms: "#+15551234567" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`},
		7: {"#" + strings.Repeat("a", 22), "", fmt.Sprintf(`sms: "#%s" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`, strings.Repeat("a", 22))},
		8: {"##mybank", "", `sms: "##mybank" is neither a phone number nor a sender id (# and up to 21 letters, digits and spaces): no SMS can go to it`},
		9: {"mybank", "", `sms: "mybank" is not a valid phone number (unexpected 'm')`},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := tr.ParseAddr(tt.in)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if got != tt.want || msg != tt.err {
				t.Errorf("ParseAddr(%q) = %q, %q; want %q, %q", tt.in, got, msg, tt.want, tt.err)
			}
		})
	}
}
