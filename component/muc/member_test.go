package muc

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core/coretest"
	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// ownGroups is a transport whose users sign in (transports.MemberRooms):
// +15550003333 is a group alice's account is in; asking may take the
// network.
type ownGroups struct{ *transporttest.Transport }

func (ownGroups) IsRoom(a transports.Addr) bool { return strings.HasPrefix(string(a), "+1555000333") }
func (ownGroups) RoomHistory() int              { return roomHistory }

func (ownGroups) Member(_ context.Context, user string, group transports.Addr) (string, bool, error) {
	return "Ops team", user == "alice@example.test" && group == "+15550003333", nil
}

// A join to, or an archive query of, a group of the user's own account
// asks the network (Member): it is answered off the read loop (Later),
// with the same stanzas. A team inbox's join commits the nick: off the
// read loop too.
func TestOwnGroupsOffTheReadLoop(t *testing.T) {
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := coretest.New("tg.example.test", ownGroups{&transporttest.Transport{TransportName: "tg"}}, store)
	c.Ident = transports.Identity{Name: "Telegram"}
	c.Inboxes = map[string]transports.Inbox{"desk": {Room: "desk", Account: "+15550009999", Members: []string{"alice@example.test"}}}
	r := router.New(nil, New(c).Routes()...)
	dispatch := func(raw string, target router.Target) string {
		var w routertest.Writer
		r.Dispatch(context.Background(), &w, routertest.Stanza(t, raw, target))
		return w.String()
	}
	const muc = `<x xmlns="http://jabber.org/protocol/muc"/>`
	for i, tc := range []struct {
		in     string
		target router.Target
		out    string // exactly, or its start if it ends in "…"
		later  int64  // Later calls so far
	}{
		0: {in: `<presence id="j1" from="alice@example.test/pc" to="+15550003333@tg.example.test/al">` + muc + `</presence>`, target: router.Occupant,
			out:   self("al", pc, "", "participant") + `<message type="groupchat" from="` + ops + `" to="` + pc + `"><subject>Ops team</subject></message>`,
			later: 1},
		1: {in: `<presence id="j2" from="alice@example.test/pc" to="+15550003334@tg.example.test/al">` + muc + `</presence>`, target: router.Occupant,
			out:   refusal("presence", "j2", "+15550003334@tg.example.test/al", pc, "auth", "registration-required", "your Telegram account is not in the group +15550003334"),
			later: 2},
		2: {in: `<iq type="set" id="q1" from="alice@example.test/pc" to="` + ops + `"><query xmlns="urn:xmpp:mam:2"/></iq>`, target: router.Room,
			out:   `<iq type="result" id="q1" from="` + ops + `" to="` + pc + `">…`,
			later: 3},
		3: {in: `<presence id="j3" from="alice@example.test/pc" to="desk@tg.example.test/al">` + muc + `</presence>`, target: router.Occupant,
			out:   `<presence from="desk@tg.example.test/al"…`,
			later: 4},
	} {
		out := dispatch(tc.in, tc.target)
		if want, prefix := strings.CutSuffix(tc.out, "…"); prefix && !strings.HasPrefix(out, want) || !prefix && out != tc.out {
			t.Errorf("%d: wrote\n%s\nwant\n%s", i, out, tc.out)
		}
		if n := c.LaterCalls(); n != tc.later {
			t.Errorf("%d: %d calls of Later, want %d", i, n, tc.later)
		}
	}
}

// heldCore runs each Later's work in a goroutine of its own, the first
// one only once first is closed, keeping what each writes, in the order
// written.
type heldCore struct {
	*coretest.Core
	first chan struct{}
	calls int
	wg    sync.WaitGroup
	mu    sync.Mutex
	out   []string
}

func (c *heldCore) Later(_ jid.JID, _ router.Writer, f func(context.Context, router.Writer)) error {
	c.calls++
	held := c.calls == 1
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if held {
			<-c.first
		}
		f(context.Background(), heldWriter{c})
	}()
	return nil
}

// Await is Later.
func (c *heldCore) Await(from jid.JID, w router.Writer, f func(context.Context, router.Writer)) {
	c.Later(from, w, f)
}

// heldWriter records each stanza as it is written, in the order written.
type heldWriter struct{ c *heldCore }

func (w heldWriter) Encode(v any) {
	var one routertest.Writer
	one.Encode(v)
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.out = append(w.c.out, one.String())
}

// A leave that comes while its join is still being asked about (Member,
// off the read loop) is handled after the join: the user ends up out of
// the room, and the join's answers come before the leave's.
func TestOwnGroupLeaveWaitsForJoin(t *testing.T) {
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &heldCore{Core: coretest.New("tg.example.test", ownGroups{&transporttest.Transport{TransportName: "tg"}}, store), first: make(chan struct{})}
	c.Ident = transports.Identity{Name: "Telegram"}
	inst := New(c).(*rooms)
	r := router.New(nil, inst.Routes()...)
	dispatch := func(raw string) {
		var w routertest.Writer
		r.Dispatch(context.Background(), &w, routertest.Stanza(t, raw, router.Occupant))
	}
	dispatch(`<presence id="j1" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"><x xmlns="http://jabber.org/protocol/muc"/></presence>`)
	dispatch(`<presence type="unavailable" id="l1" from="alice@example.test/pc" to="+15550003333@tg.example.test/al"/>`)
	time.Sleep(20 * time.Millisecond) // let the leave run, if it would not wait
	close(c.first)
	c.wg.Wait()
	if nick, in := inst.joined.nick(ops, pc); in {
		t.Errorf("left, but still an occupant as %q", nick)
	}
	written := strings.Join(c.out, "")
	if i, j := strings.Index(written, "<subject>"), strings.Index(written, self("al", pc, "unavailable", "none")); i < 0 || j < i {
		t.Errorf("written, in order:\n%s", strings.Join(c.out, "\n"))
	}
}
