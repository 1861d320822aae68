package sms

import (
	"fmt"
	"regexp"
	"strings"

	"xmppgw/transports"
)

// Senders that are no phone numbers nor short codes: alphanumeric sender
// ids (MyBank) and any other From (opaque senders). Their addresses start
// with senderMark: #mybank, #on.call. A contact JID's local part is
// case-folded, so a sender kept as it is could take the JID of a team
// inbox's room (OnCall would be oncall@sms..., the room oncall); a room
// name starts with a letter (roomName), a number with "+", a short code
// with a digit, a sender name with senderMark: no SMS sender's contact JID
// is a room's, whatever the inboxes are called. "#" because XEP-0106
// leaves it as it is, PRECIS takes it, and no number or room name has it.

// senderMark starts the address of a sender that is no phone number nor
// short code.
const senderMark = "#"

// senderID matches alphanumeric sender ids (at least one letter; 11
// characters by the GSM standard, up to 21 taken, as some carriers pass
// longer ones), which send SMS but are not phone numbers.
var senderID = regexp.MustCompile(`^[A-Za-z0-9 ]{0,10}[A-Za-z][A-Za-z0-9 ]{0,10}$`)

// senderAddr normalises an inbound From as ParseAddr reads a reply's
// address, so that a reply goes where the SMS came from: a phone number in
// E.164 (Twilio writes it with its "+"; 9 or more digits without one are a
// national number of default_region, as some gateways write an MSISDN), or
// a short code (3 to 8 digits alone) as it is. An alphanumeric sender id
// is senderMark and the id in lower case (#mybank): the JID is
// case-folded, and the address read back from it is the one the texts
// came from. Any other From (a "+" that is no number, 3 to 8 digits with
// punctuation, other characters, a senderMark) is an opaque sender (see
// opaqueSender), logged at warn: the message is delivered, as Twilio does
// not retry a 4xx, and a reply to it is refused (ParseAddr).
func senderAddr(t *Transport, s string) transports.Addr {
	if a, err := t.numberAddr(s); err == nil {
		return a
	}
	if senderID.MatchString(s) {
		return transports.Addr(senderMark + strings.ToLower(s))
	}
	a := opaqueSender(s)
	t.log.Warn("sms: inbound From is neither a phone number nor a short code or sender id; kept as the sender's name",
		"from", s, "sender", string(a))
	return a
}

// maxOpaque bounds an opaque sender's address, in bytes.
const maxOpaque = 64

// opaqueSender is a From that is not an address as a name that always
// makes a JID's local part (XEP-0106 escapes what the JID syntax forbids)
// and is never a sender id's: senderMark, then the From with printable
// ASCII but '%' as it is, every other byte (white space, control and
// non-ASCII characters, which PRECIS may refuse) as %XX, cut at maxOpaque
// bytes. The same From always gives the same name. It never reads back
// as a sender id's address, even case-folded: it would then be letters
// and digits alone, and so would the From, a sender id.
func opaqueSender(s string) transports.Addr {
	var b strings.Builder
	b.WriteString(senderMark)
	for i := 0; i < len(s); i++ {
		c := s[i]
		var enc string
		if c > ' ' && c < 0x7f && c != '%' {
			enc = string(c)
		} else {
			enc = fmt.Sprintf("%%%02X", c)
		}
		if b.Len()+len(enc) > maxOpaque {
			break
		}
		b.WriteString(enc)
	}
	return transports.Addr(b.String())
}

// parseSenderName reads the address of a sender that is no number (s
// starts with senderMark), as a contact JID's local part holds it: a
// sender id's, in lower case, to which a reply goes (Twilio refuses it:
// sender ids take no texts, and the user is told why), or an opaque
// sender's, refused.
func parseSenderName(s string) (transports.Addr, error) {
	id := strings.TrimPrefix(s, senderMark)
	if !senderID.MatchString(id) {
		return "", fmt.Errorf("sms: %q is neither a phone number nor a sender id (%s and up to 21 letters, digits and spaces): "+
			"no SMS can go to it", s, senderMark)
	}
	return transports.Addr(senderMark + strings.ToLower(id)), nil
}

// providerAddr is addr as Twilio takes it: a sender id without its mark.
func providerAddr(addr transports.Addr) string {
	return strings.TrimPrefix(string(addr), senderMark)
}
