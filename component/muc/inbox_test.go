package muc

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// A team inbox's room: a member joins and gets the history and subject;
// an allowed user who is no member gets registration-required; the
// archive (XEP-0313) pages, exactly.
func TestInboxRoom(t *testing.T) {
	f, m := newFake(t)
	f.Inboxes = map[string]transports.Inbox{"oncall": {Account: "+15550009999", Room: "oncall", Members: []string{"alice@example.test"}}}
	r := router.New(f.Logger(), m.Routes()...)
	ctx := context.Background()
	for i := range 3 {
		id := "SM" + strconv.Itoa(i)
		if _, _, err := f.Store().Rooms().AcceptRoom(ctx, "tg", "in:"+id, []mapping.RoomEntry{{Room: "oncall", Sender: "Dana", StanzaID: id, Body: "text " + strconv.Itoa(i)}}, inboxHistory); err != nil {
			t.Fatal(err)
		}
	}
	send := func(raw string, target router.Target) string {
		t.Helper()
		s := routertest.Stanza(t, raw, target)
		var w routertest.Writer
		r.Dispatch(ctx, &w, s)
		return stampRE.ReplaceAllString(w.String(), `stamp="T"`)
	}
	const room = "oncall@tg.example.test"
	got := send(`<presence from="bob@example.test/pc" to="`+room+`/bob"><x xmlns="http://jabber.org/protocol/muc"/></presence>`, router.Occupant)
	if want := `<presence type="error" from="` + room + `/bob" to="bob@example.test/pc"><error type="auth"><registration-required ` + errNS + `></registration-required><text ` + errNS + `>this room is the team inbox of +15550009999; only its members may join</text></error></presence>`; got != want {
		t.Errorf("bob's join:\n%s\nwant\n%s", got, want)
	}
	got = send(`<presence from="`+pc+`" to="`+room+`/alice"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="1"/></x></presence>`, router.Occupant)
	want := `<presence from="` + room + `/Dana" to="` + pc + `"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"></item></x></presence>` +
		`<presence from="` + room + `/alice" to="` + pc + `"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="` + pc + `"></item><status code="100"></status><status code="110"></status></x></presence>` +
		`<message type="groupchat" id="SM2" from="` + room + `/Dana" to="` + pc + `"><body>text 2</body><stanza-id xmlns="urn:xmpp:sid:0" id="SM2" by="` + room + `"></stanza-id><delay xmlns="urn:xmpp:delay" stamp="T" from="` + room + `"></delay></message>` +
		`<message type="groupchat" from="` + room + `" to="` + pc + `"><subject>Team inbox +15550009999</subject></message>`
	if got != want {
		t.Errorf("alice's join:\n%s\nwant\n%s", got, want)
	}
	result := func(qid, id, body string) string {
		return `<message from="` + room + `" to="` + pc + `"><result xmlns="urn:xmpp:mam:2" queryid="` + qid + `" id="` + id + `"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"></delay>` +
			`<message xmlns="jabber:client" type="groupchat" id="` + id + `" from="` + room + `/Dana" to="` + room + `"><body>` + body + `</body></message></forwarded></result></message>`
	}
	fin := func(id, complete, first, last string) string {
		c := ""
		if complete != "" {
			c = ` complete="true"`
		}
		return `<iq type="result" id="` + id + `" from="` + room + `" to="` + pc + `"><fin xmlns="urn:xmpp:mam:2"` + c + `><set xmlns="http://jabber.org/protocol/rsm"><first>` + first + `</first><last>` + last + `</last><count>3</count></set></fin></iq>`
	}
	for i, tt := range []struct{ set, want string }{
		{``, result("q", "SM0", "text 0") + result("q", "SM1", "text 1") + result("q", "SM2", "text 2") + fin("m0", "true", "SM0", "SM2")},
		{`<max>2</max><before/>`, result("q", "SM1", "text 1") + result("q", "SM2", "text 2") + fin("m1", "", "SM1", "SM2")},
		{`<max>2</max><before>SM1</before>`, result("q", "SM0", "text 0") + fin("m2", "true", "SM0", "SM0")},
		{`<max>1</max><after>SM0</after>`, result("q", "SM1", "text 1") + fin("m3", "", "SM1", "SM1")},
		{`<after>nope</after>`, `<iq type="error" id="m4" from="` + room + `" to="` + pc + `"><error type="cancel"><item-not-found ` + errNS + `></item-not-found><text ` + errNS + `>the archive holds no message nope</text></error></iq>`},
	} {
		id := "m" + strconv.Itoa(i)
		set := ""
		if tt.set != "" {
			set = `<set xmlns="http://jabber.org/protocol/rsm">` + tt.set + `</set>`
		}
		got := send(`<iq type="set" id="`+id+`" from="`+pc+`" to="`+room+`"><query xmlns="urn:xmpp:mam:2" queryid="q">`+set+`</query></iq>`, router.Room)
		if got != tt.want {
			t.Errorf("%d: %s\n%s\nwant\n%s", i, tt.set, strings.ReplaceAll(got, "><", ">\n<"), strings.ReplaceAll(tt.want, "><", ">\n<"))
		}
	}
}
