package routertest

import (
	"encoding/xml"
	"testing"

	"xmppgw/component/router"
)

func TestStanza(t *testing.T) {
	s := Stanza(t, `<message type="chat" id="m" from="a@x.test/r" to="b@gw.test"><body>hi</body></message>`, router.Contact)
	var body string
	if ok, err := s.DecodeChild(xml.Name{Local: "body"}, &body); !ok || err != nil || body != "hi" {
		t.Errorf("body %q, %v, %v", body, ok, err)
	}
	if s.Kind != router.Message || s.Type != "chat" || s.ID != "m" || s.From.String() != "a@x.test/r" || s.To.String() != "b@gw.test" {
		t.Errorf("stanza %+v", s)
	}
	if n := s.Start().Name; n.Space != "jabber:component:accept" || n.Local != "message" {
		t.Errorf("start %v", n)
	}
}
