package component

import (
	"fmt"
	"testing"

	"xmppgw/transports"
)

// TestErrorFor: each kind of provider failure becomes the stanza error the
// sender gets, exactly.
func TestErrorFor(t *testing.T) {
	tests := []struct {
		err  *transports.Error
		want string
	}{
		{transports.AttachmentNotAllowed("Telegram"),
			`<error type="modify" by="tg.example.test"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></not-acceptable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">this attachment&#39;s address is not allowed</text></error>`},
		{&transports.Error{Kind: transports.KindRejected, Provider: "twilio", Code: "21610", Message: "unsubscribed"},
			`<error type="cancel" by="tg.example.test"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></not-acceptable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">twilio error 21610: unsubscribed</text></error>`},
		{&transports.Error{Kind: transports.KindUnreachable, Provider: "SMS", Code: "30003", Message: "Unreachable destination handset"},
			`<error type="wait" by="tg.example.test"><recipient-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></recipient-unavailable><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">SMS error 30003: Unreachable destination handset</text></error>`},
		{&transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: "the attachment could not be fetched"},
			`<error type="wait" by="tg.example.test"><remote-server-timeout xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></remote-server-timeout><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">Telegram: the attachment could not be fetched</text></error>`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := string(render(errorFor(tt.err, "tg.example.test"))); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
