package component

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/conn"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// avatarLinked is a Linked transport whose contacts have the pictures in
// photos (none if absent).
type avatarLinked struct {
	*transporttest.Linked
	mu     sync.Mutex
	photos map[transports.Addr][]byte
	calls  int
}

func (a *avatarLinked) Avatar(_ context.Context, _ string, remote transports.Addr) ([]byte, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	return a.photos[remote], "image/png", nil
}

func (a *avatarLinked) setPhoto(remote transports.Addr, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.photos[remote] = data
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// A contact's presence carries its picture's hash (XEP-0153), learned in
// the background with its first message, and again from a vCard fetch.
// The hashes are package vcard's (core.Avatars); this drives that module
// through the whole gateway: the sink, the presence handler and the queue.
func TestAvatarHashInPresence(t *testing.T) {
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	photo := []byte("\x89PNG fake")
	tr := &avatarLinked{Linked: &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}},
		photos: map[transports.Addr][]byte{"+15550002222": photo}}
	g := New(Options{
		Transport: tr,
		Identity:  transports.Identity{Gateway: "telegram", Name: "Telegram", Prompt: "Chat ID"},
		Store:     store,
		Conn:      &conn.Conn{Domain: jid.MustParse("tg.example.test")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Allowed:   func(b string) bool { return strings.HasSuffix(b, "@example.test") },
	})
	ctx := context.Background()
	if err := store.Links().ImportLinks(ctx, "tg", []mapping.Link{
		{Remote: "+15550002222", User: "alice@example.test", Name: "Alice", Asked: true},
		{Remote: "+15550002223", User: "alice@example.test", Name: "Nobody", Asked: true},
	}); err != nil {
		t.Fatal(err)
	}
	var last int64
	// next waits until the queue to XMPP holds a presence, and returns
	// what was queued since the last call.
	next := func(t *testing.T) string {
		t.Helper()
		var b strings.Builder
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			q, err := store.ToXMPP().PendingAfter(ctx, "tg", last, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range q {
				b.Write(st.Stanza)
				last = st.ID
			}
			if strings.Contains(b.String(), "<presence") {
				break
			}
		}
		return b.String()
	}
	hash := sha1Hex(photo)

	// The first message: its picture's hash follows, in a presence.
	if err := g.Deliver(ctx, transports.Inbound{From: "+15550002222", ID: "1", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	want := `<message type="chat" id="1" from="+15550002222@tg.example.test" to="alice@example.test"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="1"></origin-id></message>` +
		`<presence from="+15550002222@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + hash + `</photo></x></presence>`
	if got := next(t); got != want {
		t.Errorf("after the first message:\n%s\nwant\n%s", got, want)
	}
	// Answers to probes carry it; a second message fetches nothing.
	if err := g.Deliver(ctx, transports.Inbound{From: "+15550002222", ID: "2", Body: "again"}); err != nil {
		t.Fatal(err)
	}
	out := handle(t, g, `<presence type="probe" from="alice@example.test" to="+15550002222@tg.example.test"/>`)
	want = `<presence from="+15550002222@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + hash + `</photo></x></presence>`
	if out != want {
		t.Errorf("probe:\n%s\nwant\n%s", out, want)
	}

	// A contact without a picture: the probe's answer has no hash yet,
	// then one with an empty <photo/> follows, and later answers have it.
	out = handle(t, g, `<presence type="probe" from="alice@example.test" to="+15550002223@tg.example.test"/>`)
	if want := `<presence from="+15550002223@tg.example.test" to="alice@example.test"></presence>`; out != want {
		t.Errorf("first probe, no picture:\n%s\nwant\n%s", out, want)
	}
	want = `<message type="chat" id="2" from="+15550002222@tg.example.test" to="alice@example.test"><body>again</body><origin-id xmlns="urn:xmpp:sid:0" id="2"></origin-id></message>` +
		`<presence from="+15550002223@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo></photo></x></presence>`
	if got := next(t); got != want {
		t.Errorf("after the probe:\n%s\nwant\n%s", got, want)
	}
	out = handle(t, g, `<presence type="probe" from="alice@example.test" to="+15550002223@tg.example.test"/>`)
	if want := `<presence from="+15550002223@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo></photo></x></presence>`; out != want {
		t.Errorf("second probe, no picture:\n%s\nwant\n%s", out, want)
	}
	tr.mu.Lock()
	calls := tr.calls
	tr.mu.Unlock()
	if calls != 2 {
		t.Errorf("%d pictures fetched, want 2", calls)
	}

	// A new picture, seen when the vCard is fetched: the answer, then the
	// presence with the new hash.
	photo2 := []byte("\x89PNG new")
	tr.setPhoto("+15550002223", photo2)
	if out := handle(t, g, `<iq type="get" id="v1" from="alice@example.test/pc" to="+15550002223@tg.example.test"><vCard xmlns="vcard-temp"/></iq>`); out != "" {
		t.Errorf("vCard answered on the read loop: %s", out)
	}
	want = `<iq type="result" id="v1" from="+15550002223@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Nobody</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORyBuZXc=</BINVAL></PHOTO></vCard></iq>` +
		`<presence from="+15550002223@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + sha1Hex(photo2) + `</photo></x></presence>`
	if got := next(t); got != want {
		t.Errorf("after the vCard:\n%s\nwant\n%s", got, want)
	}
}
