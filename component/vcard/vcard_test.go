package vcard

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/component/core/coretest"
	"xmppgw/component/router"
	"xmppgw/component/router/routertest"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// fakeCore is the Core of the module under test; it keeps what is queued.
type fakeCore struct {
	*coretest.Core
	mu      sync.Mutex
	queued  strings.Builder
	failing bool // Queue fails
}

// newCore is the Core of a gateway for tr on tg.example.test.
func newCore(tr transports.Transport, store *mapping.Store) *fakeCore {
	return &fakeCore{Core: coretest.New("tg.example.test", tr, store)}
}

func (c *fakeCore) Queue(ctx context.Context, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing {
		return errors.New("store down")
	}
	if err := ctx.Err(); err != nil {
		return err // as the store does
	}
	c.queued.Write(stanza.Render(v))
	return nil
}

// flush waits for the goroutines started and returns what they queued
// since the last call.
func (c *fakeCore) flush() string {
	c.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.queued.String()
	c.queued.Reset()
	return s
}

// pictures is a fake transports.Avatars: photos by address, an error for
// the addresses in fail, and a gate that holds every fetch while it is
// set.
type pictures struct {
	mu     sync.Mutex
	photos map[transports.Addr][]byte
	fail   map[transports.Addr]bool
	gate   chan struct{}
	calls  int
}

func (p *pictures) Avatar(ctx context.Context, _ string, remote transports.Addr) ([]byte, string, error) {
	p.mu.Lock()
	p.calls++
	gate := p.gate
	data, fail := p.photos[remote], p.fail[remote]
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	if fail {
		return nil, "", errors.New("no network")
	}
	return data, "image/png", nil
}

func (p *pictures) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// accounts is a fake of a transport users sign in to (transports.Login,
// like telegramuser): each user's account knows the names and pictures of
// its own contacts.
type accounts struct {
	*transporttest.Transport
	mu     sync.Mutex
	names  map[string]map[transports.Addr]string // by user, by contact
	photos map[string]map[transports.Addr][]byte
	asked  []string // the users whose pictures were fetched, in order
}

func (a *accounts) BeginLogin(context.Context, string) transports.Prompt { return transports.Prompt{} }
func (a *accounts) LoginAnswer(context.Context, string, string, string) (*transports.Prompt, string, error) {
	return nil, "", nil
}
func (a *accounts) Logout(context.Context, string) error { return nil }

func (a *accounts) ContactName(_ context.Context, user string, remote transports.Addr) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.names[user][remote], nil
}

func (a *accounts) Avatar(_ context.Context, user string, remote transports.Addr) ([]byte, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, user)
	return a.photos[user][remote], "image/png", nil
}

func (a *accounts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.asked)
}

// newAccounts has alice's account know +15550002227 (named, with a
// picture) and bob's know +15550002228 and, by a name and a picture of its
// own, +15550002227.
func newAccounts(photo []byte) *accounts {
	return &accounts{
		Transport: &transporttest.Transport{TransportName: "tg"},
		names: map[string]map[transports.Addr]string{
			"alice@example.test": {"+15550002227": "Carol"},
			"bob@example.test":   {"+15550002227": "Carol (my dentist)", "+15550002228": "Bob's secret contact"},
		},
		photos: map[string]map[transports.Addr][]byte{
			"alice@example.test": {"+15550002227": photo},
			"bob@example.test":   {"+15550002227": []byte("\x89PNG bob's"), "+15550002228": []byte("\x89PNG secret")},
		},
	}
}

// namesOnly is a transport users sign in to whose accounts name their
// contacts (as accounts does) but fetch no pictures.
type namesOnly struct {
	*transporttest.Transport
	a *accounts
}

func (n namesOnly) BeginLogin(ctx context.Context, user string) transports.Prompt {
	return n.a.BeginLogin(ctx, user)
}
func (n namesOnly) LoginAnswer(ctx context.Context, user, field, value string) (*transports.Prompt, string, error) {
	return n.a.LoginAnswer(ctx, user, field, value)
}
func (n namesOnly) Logout(ctx context.Context, user string) error { return n.a.Logout(ctx, user) }
func (n namesOnly) ContactName(ctx context.Context, user string, remote transports.Addr) (string, error) {
	return n.a.ContactName(ctx, user, remote)
}

// linkedPictures is a Linker with pictures, like Telegram; plainPictures
// has pictures but no links.
type linkedPictures struct {
	*transporttest.Linked
	*pictures
}

type plainPictures struct {
	*transporttest.Transport
	*pictures
}

func newStore(t *testing.T) *mapping.Store {
	t.Helper()
	store, err := mapping.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// serve dispatches raw to v's routes and returns what was written on the
// read loop.
func serve(t *testing.T, v *Instance, raw string, target router.Target) string {
	t.Helper()
	var w routertest.Writer
	router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), v.Routes()...).Dispatch(context.Background(), &w, routertest.Stanza(t, raw, target))
	return w.String()
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// A vCard get is answered with the contact's name and picture: on the read
// loop without pictures, else from a fetch through the queue, followed by
// the contact's presence with its new hash (XEP-0153).
func TestVCard(t *testing.T) {
	photo := []byte("\x89PNG new")
	const (
		alice = `from="alice@example.test/pc"`
		get   = `<vCard xmlns="vcard-temp"/></iq>`
		to222 = ` to="+15550002222@tg.example.test">`
		to223 = ` to="+15550002223@tg.example.test">`
	)
	presence := func(remote, photo string) string {
		return `<presence from="` + remote + `@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + photo + `</photo></x></presence>`
	}
	tests := []struct {
		name     string
		tr       string // "plain" (no links, no pictures), "linked", "pictures" (linked, with pictures), "unlinked-pictures", "closed", "accounts" (users sign in), "names" (users sign in; names, no pictures)
		in       string
		target   router.Target
		busy     bool // every fetch slot taken
		failing  bool // Queue fails
		ended    bool // the gateway's lifetime has ended: shutdown has begun
		out      string
		queued   string
		fetchers int // pictures fetched
	}{
		0: {name: "no links, no pictures: the address", tr: "plain",
			in:  `<iq type="get" id="v1" ` + alice + to222 + get,
			out: `<iq type="result" id="v1" from="+15550002222@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002222</FN></vCard></iq>`},
		1: {name: "not allowed", tr: "plain",
			in:  `<iq type="get" id="v2" from="mallory@evil.test/x"` + to222 + get,
			out: `<iq type="error" id="v2" from="+15550002222@tg.example.test" to="mallory@evil.test/x"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></forbidden><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">mallory@evil.test may not use this gateway</text></error></iq>`},
		2: {name: "not an address of the transport", tr: "plain",
			in:  `<iq type="get" id="v3" ` + alice + ` to="bob@tg.example.test">` + get,
			out: `<iq type="error" id="v3" from="bob@tg.example.test" to="alice@example.test/pc"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></jid-malformed><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">fake: &#34;bob&#34; is not an E.164 number</text></error></iq>`},
		3: {name: "linked: the chat's name", tr: "linked",
			in:  `<iq type="get" id="v4" ` + alice + to222 + get,
			out: `<iq type="result" id="v4" from="+15550002222@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>`},
		4: {name: "linked to someone else", tr: "linked",
			in:  `<iq type="get" id="v5" ` + alice + ` to="+15550002224@tg.example.test">` + get,
			out: `<iq type="error" id="v5" from="+15550002224@tg.example.test" to="alice@example.test/pc"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">+15550002224 is not a chat linked to alice@example.test</text></error></iq>`},
		5: {name: "not linked", tr: "linked",
			in:  `<iq type="get" id="v6" ` + alice + ` to="+15550009999@tg.example.test">` + get,
			out: `<iq type="error" id="v6" from="+15550009999@tg.example.test" to="alice@example.test/pc"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">+15550009999 is not a chat linked to alice@example.test</text></error></iq>`},
		6: {name: "the store is unavailable", tr: "closed",
			in:  `<iq type="get" id="v7" ` + alice + to222 + get,
			out: `<iq type="error" id="v7" from="+15550002222@tg.example.test" to="alice@example.test/pc"><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></resource-constraint><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">the gateway cannot store messages right now; try again later</text></error></iq>`},
		7: {name: "a picture: answered through the queue, then the new hash", tr: "pictures",
			in: `<iq type="get" id="v8" ` + alice + to223 + get,
			queued: `<iq type="result" id="v8" from="+15550002223@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Nobody</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORyBuZXc=</BINVAL></PHOTO></vCard></iq>` +
				presence("+15550002223", sha1Hex(photo)),
			fetchers: 1},
		8: {name: "no picture: no PHOTO, an empty hash", tr: "pictures",
			in: `<iq type="get" id="v9" ` + alice + to222 + get,
			queued: `<iq type="result" id="v9" from="+15550002222@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>` +
				presence("+15550002222", ""),
			fetchers: 1},
		9: {name: "the fetch fails: the name only, no presence", tr: "pictures",
			in:       `<iq type="get" id="v10" ` + alice + ` to="+15550002225@tg.example.test">` + get,
			queued:   `<iq type="result" id="v10" from="+15550002225@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Broken</FN></vCard></iq>`,
			fetchers: 1},
		10: {name: "too many fetches under way: the name only, at once", tr: "pictures", busy: true,
			in:  `<iq type="get" id="v11" ` + alice + to223 + get,
			out: `<iq type="result" id="v11" from="+15550002223@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Nobody</FN></vCard></iq>`},
		11: {name: "an occupant's vCard is its room's", tr: "plain", target: router.Occupant,
			in:  `<iq type="get" id="v12" ` + alice + ` to="+15550002222@tg.example.test/Bob">` + get,
			out: `<iq type="result" id="v12" from="+15550002222@tg.example.test/Bob" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002222</FN></vCard></iq>`},
		12: {name: "the queue fails: nothing is sent", tr: "pictures", failing: true,
			in: `<iq type="get" id="v13" ` + alice + to223 + get, fetchers: 1},
		13: {name: "pictures without links: the address and the picture", tr: "unlinked-pictures",
			in: `<iq type="get" id="v14" ` + alice + to223 + get,
			queued: `<iq type="result" id="v14" from="+15550002223@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002223</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORyBuZXc=</BINVAL></PHOTO></vCard></iq>` +
				presence("+15550002223", sha1Hex(photo)),
			fetchers: 1},
		14: {name: "a set is not routed here", tr: "plain",
			in:  `<iq type="set" id="v15" ` + alice + to222 + get,
			out: `<iq type="error" id="v15" from="+15550002222@tg.example.test" to="alice@example.test/pc"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></service-unavailable></error></iq>`},
		15: {name: "a name in the address book links nothing", tr: "linked",
			in:  `<iq type="get" id="v16" ` + alice + ` to="+15550003333@tg.example.test">` + get,
			out: `<iq type="error" id="v16" from="+15550003333@tg.example.test" to="alice@example.test/pc"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></item-not-found><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">+15550003333 is not a chat linked to alice@example.test</text></error></iq>`},
		16: {name: "the address book names a linked chat", tr: "linked",
			in:  `<iq type="get" id="v17" ` + alice + ` to="+15550002226@tg.example.test">` + get,
			out: `<iq type="result" id="v17" from="+15550002226@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Dana &lt;on call&gt;</FN></vCard></iq>`},
		17: {name: "the address book names an unlinked number", tr: "plain",
			in:  `<iq type="get" id="v18" ` + alice + ` to="+15550002226@tg.example.test">` + get,
			out: `<iq type="result" id="v18" from="+15550002226@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Dana &lt;on call&gt;</FN></vCard></iq>`},
		18: {name: "signed-in accounts: the name and picture the asker's own account sees", tr: "accounts",
			in: `<iq type="get" id="v19" ` + alice + ` to="+15550002227@tg.example.test">` + get,
			queued: `<iq type="result" id="v19" from="+15550002227@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Carol</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORyBuZXc=</BINVAL></PHOTO></vCard></iq>` +
				presence("+15550002227", sha1Hex(photo)),
			fetchers: 1},
		19: {name: "signed-in accounts: nothing of another user's contact", tr: "accounts",
			in: `<iq type="get" id="v20" ` + alice + ` to="+15550002228@tg.example.test">` + get,
			queued: `<iq type="result" id="v20" from="+15550002228@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002228</FN></vCard></iq>` +
				presence("+15550002228", ""),
			fetchers: 1},
		20: {name: "signed-in accounts, every fetch slot taken: the address, at once", tr: "accounts", busy: true,
			in:  `<iq type="get" id="v21" ` + alice + ` to="+15550002227@tg.example.test">` + get,
			out: `<iq type="result" id="v21" from="+15550002227@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002227</FN></vCard></iq>`},
		21: {name: "signed-in accounts with names but no pictures: the name, through the queue", tr: "names",
			in:     `<iq type="get" id="v22" ` + alice + ` to="+15550002227@tg.example.test">` + get,
			queued: `<iq type="result" id="v22" from="+15550002227@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Carol</FN></vCard></iq>`},
		22: {name: "signed-in accounts with names, every fetch slot taken: the address, at once", tr: "names", busy: true,
			in:  `<iq type="get" id="v23" ` + alice + ` to="+15550002227@tg.example.test">` + get,
			out: `<iq type="result" id="v23" from="+15550002227@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>+15550002227</FN></vCard></iq>`},
		23: {name: "signed-in accounts, the address book names it: no look-up", tr: "names", busy: true,
			in:  `<iq type="get" id="v24" ` + alice + ` to="+15550002226@tg.example.test">` + get,
			out: `<iq type="result" id="v24" from="+15550002226@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Dana &lt;on call&gt;</FN></vCard></iq>`},
		24: {name: "read once shutdown has begun: answered all the same", tr: "pictures", ended: true,
			in: `<iq type="get" id="v25" ` + alice + to223 + get,
			queued: `<iq type="result" id="v25" from="+15550002223@tg.example.test" to="alice@example.test/pc"><vCard xmlns="vcard-temp"><FN>Nobody</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORyBuZXc=</BINVAL></PHOTO></vCard></iq>` +
				presence("+15550002223", sha1Hex(photo)),
			fetchers: 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			if err := store.Links().ImportLinks(context.Background(), "tg", []mapping.Link{
				{Remote: "+15550002222", User: "alice@example.test", Name: "Alice", Asked: true},
				{Remote: "+15550002223", User: "alice@example.test", Name: "Nobody", Asked: true},
				{Remote: "+15550002224", User: "bob@example.test", Name: "Bob", Asked: true},
				{Remote: "+15550002225", User: "alice@example.test", Name: "Broken", Asked: true},
				{Remote: "+15550002226", User: "alice@example.test", Name: "Dana on Telegram", Asked: true},
			}); err != nil {
				t.Fatal(err)
			}
			pics := &pictures{photos: map[transports.Addr][]byte{"+15550002223": photo}, fail: map[transports.Addr]bool{"+15550002225": true}}
			var tr transports.Transport
			linked := &transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}
			acc := newAccounts(photo)
			switch tc.tr {
			case "accounts":
				tr = acc
			case "names":
				tr = namesOnly{acc.Transport, acc}
			case "plain":
				tr = &linked.Transport
			case "linked", "closed":
				tr = linked
			case "pictures":
				tr = linkedPictures{linked, pics}
			case "unlinked-pictures":
				tr = plainPictures{&linked.Transport, pics}
			}
			if tc.tr == "closed" {
				store.Close()
			}
			c := newCore(tr, store)
			c.Names = map[string]string{"+15550002226@tg.example.test": "Dana <on call>", "+15550003333@tg.example.test": "Walter"}
			c.failing = tc.failing
			if tc.ended {
				life, stop := context.WithCancel(context.Background())
				stop()
				c.Life = life
			}
			v := New(c)
			if tc.busy {
				for range maxFetches {
					v.acquire()
				}
			}
			target := tc.target
			if target == 0 {
				target = router.Contact
			}
			if out := serve(t, v, tc.in, target); out != tc.out {
				t.Errorf("%d: on the read loop:\n%s\nwant\n%s", i, out, tc.out)
			}
			if q := c.flush(); q != tc.queued {
				t.Errorf("%d: queued:\n%s\nwant\n%s", i, q, tc.queued)
			}
			if n := pics.count() + acc.count(); n != tc.fetchers {
				t.Errorf("%d: %d pictures fetched, want %d", i, n, tc.fetchers)
			}
			for _, u := range acc.asked {
				if u != "alice@example.test" {
					t.Errorf("%d: a picture fetched as %s for alice", i, u)
				}
			}
			if !tc.busy && len(v.fetches) != 0 {
				t.Errorf("%d: %d fetch slots still taken", i, len(v.fetches))
			}
		})
	}
}

// The route declares vcard-temp on contacts and rooms, not on the gateway.
func TestFeatures(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), New(newCore(&transporttest.Transport{TransportName: "sms"}, nil)).Routes()...)
	for i, tc := range []struct {
		target router.Target
		want   []string
	}{
		0: {router.Contact, []string{NS}},
		1: {router.Room, []string{NS}},
		2: {router.Gateway, nil},
		3: {router.Occupant, nil},
	} {
		if got := r.Features(tc.target); !slices.Equal(got, tc.want) {
			t.Errorf("%d: features %v, want %v", i, got, tc.want)
		}
	}
}

// RefreshAvatar learns a hash once, in a goroutine of the core's, and
// sends the presence with it; AvatarUpdate then has it. A failed fetch is
// tried again only after retryAfter; fetches over the bound are dropped,
// and the hash is learned another time.
func TestRefreshAvatar(t *testing.T) {
	photo := []byte("\x89PNG fake")
	pics := &pictures{photos: map[transports.Addr][]byte{"+15550002222": photo}, fail: map[transports.Addr]bool{"+15550002225": true}}
	c := newCore(linkedPictures{&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}, pics}, nil)
	v := New(c)
	now := time.Unix(1_700_000_000, 0)
	v.now = func() time.Time { return now }
	hash := sha1Hex(photo)
	update := func(remote transports.Addr) string {
		if u := v.AvatarUpdate("alice@example.test", remote); u != nil {
			return string(stanza.Render(u))
		}
		return "nil"
	}

	// 0: unknown, then learned and sent to both users.
	if got := update("+15550002222"); got != "nil" {
		t.Errorf("0: before: %s", got)
	}
	v.RefreshAvatar("+15550002222", "alice@example.test", "bob@example.test")
	want := `<presence from="+15550002222@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + hash + `</photo></x></presence>` +
		`<presence from="+15550002222@tg.example.test" to="bob@example.test"><x xmlns="vcard-temp:x:update"><photo>` + hash + `</photo></x></presence>`
	if got := c.flush(); got != want {
		t.Errorf("0: queued:\n%s\nwant\n%s", got, want)
	}
	if got, want := update("+15550002222"), `<x xmlns="vcard-temp:x:update"><photo>`+hash+`</photo></x>`; got != want {
		t.Errorf("0: update %s, want %s", got, want)
	}
	// 1: known: nothing fetched; no users: nothing fetched.
	v.RefreshAvatar("+15550002222", "alice@example.test")
	v.RefreshAvatar("+15550002223")
	if got := c.flush(); got != "" || pics.count() != 1 {
		t.Errorf("1: queued %q, %d fetches", got, pics.count())
	}
	// 2: a failed fetch is not tried again before retryAfter.
	v.RefreshAvatar("+15550002225", "alice@example.test")
	c.flush()
	v.RefreshAvatar("+15550002225", "alice@example.test")
	c.flush()
	if n := pics.count(); n != 2 {
		t.Errorf("2: %d fetches, want 2", n)
	}
	now = now.Add(retryAfter)
	v.RefreshAvatar("+15550002225", "alice@example.test")
	if got := c.flush(); got != "" || pics.count() != 3 || update("+15550002225") != "nil" {
		t.Errorf("2: after retryAfter: queued %q, %d fetches, update %s", got, pics.count(), update("+15550002225"))
	}
	// 3: no picture: an empty hash.
	v.RefreshAvatar("+15550002223", "alice@example.test")
	want = `<presence from="+15550002223@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo></photo></x></presence>`
	if got := c.flush(); got != want {
		t.Errorf("3: queued:\n%s\nwant\n%s", got, want)
	}
	// 4: at most maxFetches at once, one per contact; the rest are dropped
	// and not remembered as under way.
	gate := make(chan struct{})
	pics.mu.Lock()
	pics.gate = gate
	pics.mu.Unlock()
	before := pics.count()
	remotes := []transports.Addr{"+15550003000", "+15550003001", "+15550003002", "+15550003003", "+15550003004", "+15550003005"}
	for _, r := range remotes {
		v.RefreshAvatar(r, "alice@example.test")
		v.RefreshAvatar(r, "alice@example.test") // under way already
	}
	if n := len(v.fetches); n != maxFetches {
		t.Errorf("4: %d fetches under way, want %d", n, maxFetches)
	}
	close(gate)
	c.flush()
	if n := pics.count() - before; n != maxFetches {
		t.Errorf("4: %d pictures fetched, want %d", n, maxFetches)
	}
	pics.mu.Lock()
	pics.gate = nil
	pics.mu.Unlock()
	v.RefreshAvatar(remotes[maxFetches], "alice@example.test")
	c.flush()
	if got := update(remotes[maxFetches]); got != `<x xmlns="vcard-temp:x:update"><photo></photo></x>` {
		t.Errorf("4: a dropped refresh is tried again: update %s", got)
	}
	// 5: a transport without pictures: nothing, ever.
	plain := New(newCore(&transporttest.Linked{Transport: transporttest.Transport{TransportName: "tg"}}, nil))
	plain.RefreshAvatar("+15550002222", "alice@example.test")
	if u := plain.AvatarUpdate("alice@example.test", "+15550002222"); u != nil || len(plain.fetches) != 0 {
		t.Errorf("5: update %+v, %d fetches", u, len(plain.fetches))
	}
}

// Where users sign in to accounts of their own, each user's presences
// carry the hash of the picture their own account sees, learned through
// it; a user whose account does not know the contact gets none of
// another's.
func TestRefreshAvatarPerUser(t *testing.T) {
	photo := []byte("\x89PNG alice's")
	acc := newAccounts(photo)
	c := newCore(acc, nil)
	v := New(c)
	const carol = "+15550002227"
	v.RefreshAvatar(carol, "alice@example.test", "bob@example.test", "dave@example.test")
	want := `<presence from="+15550002227@tg.example.test" to="alice@example.test"><x xmlns="vcard-temp:x:update"><photo>` + sha1Hex(photo) + `</photo></x></presence>` +
		`<presence from="+15550002227@tg.example.test" to="bob@example.test"><x xmlns="vcard-temp:x:update"><photo>` + sha1Hex([]byte("\x89PNG bob's")) + `</photo></x></presence>` +
		`<presence from="+15550002227@tg.example.test" to="dave@example.test"><x xmlns="vcard-temp:x:update"><photo></photo></x></presence>`
	// One fetch for each user, each in a goroutine of its own: in any order.
	sorted := func(s string) string {
		p := strings.SplitAfter(s, "</presence>")
		slices.Sort(p)
		return strings.Join(p, "")
	}
	if got := c.flush(); sorted(got) != sorted(want) {
		t.Errorf("queued:\n%s\nwant, in any order,\n%s", got, want)
	}
	for user, want := range map[string]string{
		"alice@example.test": sha1Hex(photo),
		"bob@example.test":   sha1Hex([]byte("\x89PNG bob's")),
		"dave@example.test":  "",
	} {
		u := v.AvatarUpdate(user, carol)
		if u == nil || u.Photo != want {
			t.Errorf("AvatarUpdate(%s) = %+v, want the hash %q", user, u, want)
		}
	}
	if u := v.AvatarUpdate("erin@example.test", carol); u != nil {
		t.Errorf("AvatarUpdate for a user never asked = %+v, want nil", u)
	}
	if got := fmt.Sprint(slices.Sorted(slices.Values(acc.asked))); got != "[alice@example.test bob@example.test dave@example.test]" {
		t.Errorf("fetched as %s", got)
	}
}

// Hash is the hex SHA-1 of a picture, "" for none.
func TestHash(t *testing.T) {
	for i, tc := range []struct{ in, want string }{
		0: {"", ""},
		1: {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	} {
		if got := Hash([]byte(tc.in)); got != tc.want {
			t.Errorf("%d: Hash(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
	}
}

// Where users sign in to accounts of their own, any allowed user can name
// any contact, made up or not, in vCard gets and presence probes: what the
// module keeps per contact (picture hashes, failed fetches) is bounded,
// per user and in all, and what it forgot is learned again.
func TestPictureHashesBounded(t *testing.T) {
	c := newCore(newAccounts(nil), newStore(t))
	v := New(c)
	addr := func(i int) transports.Addr { return transports.Addr(fmt.Sprintf("+1555%07d", i)) }
	hashesOf := func(user string, n int) (kept int) {
		for i := range n {
			if v.AvatarUpdate(user, addr(i)) != nil {
				kept++
			}
		}
		return kept
	}
	// One user's vCard gets and presence probes (RefreshAvatar).
	const n = 3 * maxPerUser
	for i := range n {
		if i%2 == 0 {
			serve(t, v, `<iq type="get" id="v" from="alice@example.test/pc" to="`+string(addr(i))+`@tg.example.test"><vCard xmlns="vcard-temp"/></iq>`, router.Contact)
		} else {
			v.RefreshAvatar(addr(i), "alice@example.test")
		}
		if i%maxFetches == maxFetches-1 {
			c.flush() // let the fetches (at most maxFetches at once) finish
		}
	}
	c.flush()
	if got := hashesOf("alice@example.test", n); got == 0 || got > maxPerUser {
		t.Errorf("after %d contacts named by one user, %d picture hashes kept; want 1 to %d", n, got, maxPerUser)
	}
	// Many users: at most maxKept hashes, and failed fetches, in all.
	users := 2 * maxKept / maxPerUser
	now := time.Now()
	for u := range users {
		user := fmt.Sprintf("u%d@example.test", u)
		for i := range maxPerUser {
			v.hashes.set(v.keyOf(user, addr(i)), "")
			v.hashes.done(v.keyOf(user, addr(maxPerUser+i)), true, now)
		}
	}
	hashes, failed := 0, 0
	for u := range users {
		user := fmt.Sprintf("u%d@example.test", u)
		hashes += hashesOf(user, maxPerUser)
		for i := range maxPerUser {
			k := v.keyOf(user, addr(maxPerUser+i))
			if v.hashes.start(k, now) {
				v.hashes.done(k, false, now)
			} else {
				failed++
			}
		}
	}
	if hashes > maxKept || failed > maxKept {
		t.Errorf("%d picture hashes and %d failed fetches kept for %d users, want at most %d", hashes, failed, users, maxKept)
	}
	// What was forgotten is learned again.
	const late = "+15559999999"
	v.RefreshAvatar(late, "alice@example.test")
	c.flush()
	if v.AvatarUpdate("alice@example.test", late) == nil {
		t.Error("a contact's hash is not learned once many are kept")
	}
}
