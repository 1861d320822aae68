package muc

import (
	"context"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/transports"
)

// A user no longer allowed to use the gateway gets no group message in the
// room, even with a resource that joined before: the history keeps it.
func TestRoomInboundNotToBarredUser(t *testing.T) {
	f, m := newFake(t)
	r := router.New(f.Logger(), m.Routes()...)
	if out := dispatch(t, f, r, `<presence from="`+pc+`" to="`+ops+`/al"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`); !strings.Contains(out, "<subject>") {
		t.Fatalf("join: %s", out)
	}
	f.barred = "alice@example.test"
	in := transports.Inbound{From: "+15550003333", ID: "g1", Group: true, Sender: "Bob", SenderID: "1", Body: "hi"}
	d, err := m.RoomInbound(context.Background(), in, jid.MustParse(ops), []string{"alice@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.To) != 0 || len(d.History) != 1 {
		t.Errorf("to %q, history %+v; want nobody, and the message kept", d.To, d.History)
	}
}
