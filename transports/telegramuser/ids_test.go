package telegramuser

import (
	"testing"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

func TestPeerAddresses(t *testing.T) {
	for _, c := range []struct {
		addr transports.Addr
		want peer
		ok   bool
	}{
		{"1000001", peer{user: 1000001}, true},
		{"-5000001", peer{chat: 5000001}, true},
		{"-1001500000001", peer{channel: 1500000001}, true},
		{"-1000000000000", peer{}, false}, // no channel 0
		{"0", peer{}, false},
		{"x", peer{}, false},
	} {
		got, err := parsePeer(c.addr)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parsePeer(%q) = %+v, %v; want %+v, ok %v", c.addr, got, err, c.want, c.ok)
		}
	}
	if a := channelAddr(1500000001); a != "-1001500000001" {
		t.Errorf("channelAddr = %q", a)
	}
	if a, _ := addrOf(&tg.PeerChannel{ChannelID: 7}); a != "-1000000000007" {
		t.Errorf("addrOf(channel 7) = %q", a)
	}
}

func TestMessageRefs(t *testing.T) {
	a := &account{}
	a.self.Store(1000001)
	for _, c := range []struct {
		remote string
		want   ref
		ok     bool
	}{
		{"1000001:42", ref{id: 42}, true},
		{"1000001:c1500000001:3", ref{channel: 1500000001, id: 3}, true},
		{"1000001:c1500000001:03", ref{}, false},
		{"1000001:c0:3", ref{}, false},
		{"1000001:c:3", ref{}, false},
		{"1000002:42", ref{}, false}, // another account's
		{"1000001:0", ref{}, false},
	} {
		got, ok := a.boxID(c.remote)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("boxID(%q) = %+v, %v; want %+v, %v", c.remote, got, ok, c.want, c.ok)
		}
		if ok && a.msgID(got) != c.remote {
			t.Errorf("msgID(%+v) = %q, want %q", got, a.msgID(got), c.remote)
		}
	}
	// A channel's message is only one of that channel's.
	if _, ok := a.refTo(peer{user: 5}, "1000001:c9:3"); ok {
		t.Error("a channel's message taken as a private chat's")
	}
	if _, ok := a.refTo(peer{channel: 8}, "1000001:c9:3"); ok {
		t.Error("a channel's message taken as another channel's")
	}
	if _, ok := a.refTo(peer{channel: 9}, "1000001:3"); ok {
		t.Error("a private chat's message taken as a channel's")
	}
	if r, ok := a.refTo(peer{channel: 9}, "1000001:c9:3"); !ok || r != (ref{channel: 9, id: 3}) {
		t.Errorf("refTo = %+v, %v", r, ok)
	}
}
