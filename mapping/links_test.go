package mapping

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func stanzaFor(s string) func(string) [][]byte {
	return func(who string) [][]byte { return [][]byte{[]byte("<" + s + " who='" + who + "'/>")} }
}

func queuedStanzas(t *testing.T, s *Store, transport string) []string {
	t.Helper()
	q, err := s.ToXMPP().Pending(context.Background(), transport, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range q {
		out = append(out, string(x.Stanza))
	}
	return out
}

// A code links a chat once, to the user who asked for it; static links come
// from the config and cannot be changed from the chat.
func TestLinkCodes(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.Links().SyncStaticLinks(ctx, "tg", map[string]string{"100": "carol@example.test"}); err != nil {
			t.Fatal(err)
		}
		code, err := s.Links().NewLinkCode(ctx, "tg", "alice@example.test", time.Minute)
		if err != nil || len(code) != 8 {
			t.Fatalf("code %q, err %v", code, err)
		}
		bobCode, _ := s.Links().NewLinkCode(ctx, "tg", "bob@example.test", time.Minute)
		expired, _ := s.Links().NewLinkCode(ctx, "tg", "carol@example.test", -time.Second)

		steps := []struct {
			name, code, remote string
			wantUser           string
			wantErr            error
		}{
			{"unknown code", "NOPE2345", "200", "", ErrBadCode},
			{"expired code", expired, "200", "", ErrBadCode},
			{"static chat", code, "100", "", ErrStaticLink},
			{"good code, lower case", " " + lower(code) + " ", "200", "alice@example.test", nil},
			{"code used up", code, "300", "", ErrBadCode},
			{"chat linked to someone else", bobCode, "200", "", ErrLinkedToOther},
			{"code of another transport", bobCode + "X", "400", "", ErrBadCode},
		}
		for _, st := range steps {
			user, err := s.Links().RedeemLinkCode(ctx, "tg", st.code, st.remote, "Chat "+st.remote, stanzaFor("subscribe"))
			if user != st.wantUser || !errors.Is(err, st.wantErr) {
				t.Errorf("%s: got (%q, %v), want (%q, %v)", st.name, user, err, st.wantUser, st.wantErr)
			}
		}
		if got, want := queuedStanzas(t, s, "tg"), []string{"<subscribe who='alice@example.test'/>"}; !reflect.DeepEqual(got, want) {
			t.Errorf("queued %q, want %q", got, want)
		}
		l, ok, _ := s.Links().LinkOf(ctx, "tg", "200")
		if want := (Link{Remote: "200", User: "alice@example.test", Name: "Chat 200", Asked: true}); !ok || l != want {
			t.Errorf("link %+v, want %+v", l, want)
		}
		if _, err := s.Links().Unlink(ctx, "tg", "100", stanzaFor("x")); !errors.Is(err, ErrStaticLink) {
			t.Errorf("unlinking a static link: %v", err)
		}
		if _, err := s.Links().Unlink(ctx, "tg", "999", stanzaFor("x")); !errors.Is(err, ErrNotLinked) {
			t.Errorf("unlinking an unknown chat: %v", err)
		}
		if user, err := s.Links().Unlink(ctx, "tg", "200", stanzaFor("unsubscribed")); user != "alice@example.test" || err != nil {
			t.Errorf("unlink: %q, %v", user, err)
		}
		if _, ok, _ := s.Links().LinkOf(ctx, "tg", "200"); ok {
			t.Error("still linked after unlink")
		}
	})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Syncing the config adds, updates and removes static links, and leaves code
// links alone unless the config takes the chat over.
func TestSyncStaticLinks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		s.Links().SyncStaticLinks(ctx, "tg", map[string]string{"1": "a@x.test", "2": "b@x.test"})
		s.Links().MarkAsked(ctx, "tg", "1", "One")
		code, _ := s.Links().NewLinkCode(ctx, "tg", "c@x.test", time.Minute)
		s.Links().RedeemLinkCode(ctx, "tg", code, "3", "Three", stanzaFor("s"))
		code, _ = s.Links().NewLinkCode(ctx, "tg", "c@x.test", time.Minute)
		s.Links().RedeemLinkCode(ctx, "tg", code, "4", "Four", stanzaFor("s"))

		if err := s.Links().SyncStaticLinks(ctx, "tg", map[string]string{"1": "a@x.test", "3": "d@x.test"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]Link{
			"1": {Remote: "1", User: "a@x.test", Name: "One", Static: true, Asked: true},
			"3": {Remote: "3", User: "d@x.test", Name: "Three", Static: true, Asked: false},
			"4": {Remote: "4", User: "c@x.test", Name: "Four", Asked: true},
		}
		for _, r := range []string{"1", "2", "3", "4"} {
			l, ok, err := s.Links().LinkOf(ctx, "tg", r)
			if err != nil {
				t.Fatal(err)
			}
			if w, want := want[r]; ok != want || l != w {
				t.Errorf("chat %s: got %+v (%v), want %+v (%v)", r, l, ok, w, want)
			}
		}
		users, _ := s.Links().LinkedUsers(ctx, "tg")
		if w := []string{"a@x.test", "c@x.test", "d@x.test"}; !reflect.DeepEqual(users, w) {
			t.Errorf("linked users %v, want %v", users, w)
		}
		removed, err := s.Links().UnlinkUser(ctx, "tg", "c@x.test", stanzaFor("gone"))
		if err != nil || !reflect.DeepEqual(removed, []string{"4"}) {
			t.Errorf("UnlinkUser: %v, %v", removed, err)
		}
		if again, _ := s.Links().MarkAsked(ctx, "tg", "1", "One"); again {
			t.Error("MarkAsked asked twice")
		}
	})
}

// Transport state survives reopening the store.
func TestKV(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		kv := s.KV("tg")
		if v, err := kv.Get(ctx, "offset"); v != "" || err != nil {
			t.Fatalf("unset key: %q, %v", v, err)
		}
		kv.Set(ctx, "offset", "41")
		kv.Set(ctx, "offset", "42")
		s.KV("other").Set(ctx, "offset", "7")
		s.Close()
		s = open(t)
		if v, _ := s.KV("tg").Get(ctx, "offset"); v != "42" {
			t.Errorf("offset after reopen = %q, want 42", v)
		}
	})
}

// State set until a time is pruned after it; state set for good is not,
// and setting a key for good again lifts its expiry.
func TestKVExpires(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		now := time.Unix(1_700_000_000, 0)
		s.now = func() time.Time { return now }
		kv := s.KV("sms")
		kv.SetUntil(ctx, "media/SM1/0", "old", now.Add(time.Hour))
		kv.SetUntil(ctx, "media/SM2/0", "new", now.Add(3*time.Hour))
		kv.SetUntil(ctx, "lifted", "x", now.Add(time.Hour))
		kv.Set(ctx, "lifted", "y")
		kv.Set(ctx, "offset", "42")
		now = now.Add(2 * time.Hour)
		if err := s.Prune(ctx, now.Add(-14*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{"media/SM1/0": "", "media/SM2/0": "new", "lifted": "y", "offset": "42"} {
			if v, err := kv.Get(ctx, key); v != want || err != nil {
				t.Errorf("%s after pruning = %q, %v; want %q", key, v, err, want)
			}
		}
	})
}

// A correction's own send does not replace the record of the original, so
// every later correction still finds it.
func TestSentIDAndCorrections(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		j := Job{Transport: "tg", Sender: "alice@x.test/phone", Remote: "5", Body: "helo", StanzaID: "m1"}
		j.ID, _, _ = s.Jobs().Enqueue(ctx, j)
		s.Jobs().Sent(ctx, j, "5:10")
		c := Job{Transport: "tg", Sender: "alice@x.test/laptop", Remote: "5", Body: "hello", StanzaID: "m2", Replaces: "m1"}
		c.ID, _, _ = s.Jobs().Enqueue(ctx, c)
		s.Jobs().Sent(ctx, c, "5:10")
		tests := []struct{ user, stanza, want string }{
			{"alice@x.test", "m1", "5:10"},
			{"bob@x.test", "m1", ""},
			{"alice@x.test", "m9", ""},
		}
		for _, tt := range tests {
			id, ok, err := s.Jobs().SentID(ctx, "tg", "5", tt.user, tt.stanza)
			if err != nil || id != tt.want || ok != (tt.want != "") {
				t.Errorf("SentID(%s, %s) = %q, %v, %v; want %q", tt.user, tt.stanza, id, ok, err, tt.want)
			}
		}
		pending, _ := s.Jobs().Pending(ctx, "tg", 0, 10)
		if len(pending) != 0 {
			t.Errorf("pending after sends: %+v", pending)
		}
	})
}

// A reaction's or a retraction's send never replaces the record of
// another send, even under the same provider id (a transport that answers
// it with the id of the message it refers to): delivery reports, replies
// and references still find that message. One of its own is recorded.
func TestSentReactionKeepsOthersRecord(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		send := func(j Job, remoteID string) {
			t.Helper()
			j.Transport, j.Sender, j.Remote = "tg", "alice@x.test/web", "5"
			id, _, err := s.Jobs().Enqueue(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			j.ID = id
			if _, err := s.Jobs().Sent(ctx, j, remoteID); err != nil {
				t.Fatal(err)
			}
		}
		send(Job{Body: "helo", StanzaID: "m1"}, "5:10")
		send(Job{StanzaID: "r1", ReactTo: "m1", Reactions: []string{"👍"}}, "5:10")
		send(Job{StanzaID: "x1", Retracts: "m1"}, "5:10")
		send(Job{StanzaID: "r2", ReactTo: "m1", Reactions: []string{"👀"}}, "5:11") // said in a message of its own
		tests := []struct{ remoteID, stanza string }{
			0: {"5:10", "m1"},
			1: {"5:11", "r2"},
		}
		for i, tt := range tests {
			rec, ok, err := s.Jobs().LookupSent(ctx, "tg", Report{RemoteID: tt.remoteID, State: "delivered"})
			if err != nil || !ok || rec.StanzaID != tt.stanza {
				t.Errorf("%d: LookupSent(%s) = %+v, %v, %v; want stanza %s", i, tt.remoteID, rec, ok, err, tt.stanza)
			}
		}
		if id, ok, err := s.Jobs().SentID(ctx, "tg", "5", "alice@x.test", "m1"); err != nil || !ok || id != "5:10" {
			t.Errorf("SentID(m1) = %q, %v, %v; want 5:10", id, ok, err)
		}
	})
}

// A client that reuses stanza ids means its last message of an id: a
// reference (correction, retraction, reaction, reply) finds the message
// recorded last under it, whether by its stanza id (sent) or by an
// origin-id or a correction's (sent_ref).
func TestSentIDReusedID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		at := time.UnixMilli(1_700_000_000_000)
		s.now = func() time.Time { return at }
		steps := []struct {
			sender string
			job    Job
			id     string            // the provider's id
			want   map[string]string // alice's ref -> SentID afterwards
		}{
			0: {"alice@x.test/a", Job{Body: "one", StanzaID: "1"}, "R1", map[string]string{"1": "R1"}},
			1: {"alice@x.test/b", Job{Body: "two", StanzaID: "1"}, "R2", map[string]string{"1": "R2"}},
			2: {"bob@x.test/a", Job{Body: "bob's", StanzaID: "1"}, "R3", map[string]string{"1": "R2"}},
			3: {"alice@x.test/a", Job{Body: "four", StanzaID: "4", OriginID: "o"}, "R4", map[string]string{"o": "R4", "4": "R4"}},
			4: {"alice@x.test/a", Job{Body: "five", StanzaID: "o"}, "R5", map[string]string{"o": "R5", "4": "R4"}},
			5: {"alice@x.test/a", Job{Body: "two!", StanzaID: "6", Replaces: "1"}, "R6", map[string]string{"1": "R6", "6": "R6"}},
			6: {"alice@x.test/a", Job{Body: "seven", StanzaID: "1"}, "R7", map[string]string{"1": "R7", "6": "R6"}},
		}
		for i, st := range steps {
			at = at.Add(time.Second)
			j := st.job
			j.Transport, j.Sender, j.Remote = "sms", st.sender, "+15551234567"
			id, _, err := s.Jobs().Enqueue(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			j.ID = id
			if _, err := s.Jobs().Sent(ctx, j, st.id); err != nil {
				t.Fatal(err)
			}
			for ref, want := range st.want {
				if got, ok, err := s.Jobs().SentID(ctx, "sms", "+15551234567", "alice@x.test", ref); err != nil || !ok || got != want {
					t.Errorf("%d: SentID(%s) = %q, %v, %v; want %q", i, ref, got, ok, err, want)
				}
			}
		}
	})
}

func TestImportLinks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		links := []Link{{Remote: "1", User: "a@x.test", Name: "One"}, {Remote: "2", User: "b@x.test"}}
		if err := s.Links().ImportLinks(ctx, "tg", links); err != nil {
			t.Fatal(err)
		}
		if l, ok, _ := s.Links().LinkOf(ctx, "tg", "1"); !ok || l != (Link{Remote: "1", User: "a@x.test", Name: "One", Asked: true}) {
			t.Errorf("link %+v, %v", l, ok)
		}
		if q := queuedStanzas(t, s, "tg"); len(q) != 0 {
			t.Errorf("import queued %q", q)
		}
	})
}

// A message is found by its origin-id as well as its stanza id, and a
// correction by its own ids: the original's provider id either way.
func TestSentIDByOriginAndCorrection(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		j := Job{Transport: "tg", Sender: "alice@x.test/web", Remote: "5", Body: "helo", StanzaID: "s1", OriginID: "o1"}
		j.ID, _, _ = s.Jobs().Enqueue(ctx, j)
		if _, err := s.Jobs().Sent(ctx, j, "5:10"); err != nil {
			t.Fatal(err)
		}
		c := Job{Transport: "tg", Sender: "alice@x.test/web", Remote: "5", Body: "hello", StanzaID: "s2", OriginID: "o2", Replaces: "o1"}
		c.ID, _, _ = s.Jobs().Enqueue(ctx, c)
		if pending, _ := s.Jobs().Pending(ctx, "tg", 0, 10); len(pending) != 1 || pending[0].OriginID != "o2" {
			t.Fatalf("pending %+v", pending)
		}
		if _, err := s.Jobs().Sent(ctx, c, "5:10"); err != nil {
			t.Fatal(err)
		}
		tests := []struct{ user, remote, ref, want string }{
			0: {"alice@x.test", "5", "s1", "5:10"},
			1: {"alice@x.test", "5", "o1", "5:10"},
			2: {"alice@x.test", "5", "s2", "5:10"},
			3: {"alice@x.test", "5", "o2", "5:10"},
			4: {"bob@x.test", "5", "o2", ""},
			5: {"alice@x.test", "6", "o1", ""},
			6: {"alice@x.test", "5", "", ""},
		}
		for i, tt := range tests {
			id, ok, err := s.Jobs().SentID(ctx, "tg", tt.remote, tt.user, tt.ref)
			if err != nil || id != tt.want || ok != (tt.want != "") {
				t.Errorf("%d: SentID(%s, %s) = %q, %v, %v; want %q", i, tt.user, tt.ref, id, ok, err, tt.want)
			}
		}
	})
}

// A correction that the provider took under another id (Telegram, for a
// text that grew into more messages) makes that id the corrected
// message's: later corrections and a retraction reach all its messages.
func TestSentIDAfterACorrectionGrew(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		j := Job{Transport: "tg", Sender: "alice@x.test/phone", Remote: "5", Body: "hi", StanzaID: "m1"}
		j.ID, _, _ = s.Jobs().Enqueue(ctx, j)
		if _, err := s.Jobs().Sent(ctx, j, "5:10"); err != nil {
			t.Fatal(err)
		}
		c := Job{Transport: "tg", Sender: "alice@x.test/phone", Remote: "5", Body: "a long text", StanzaID: "m2", Replaces: "m1"}
		c.ID, _, _ = s.Jobs().Enqueue(ctx, c)
		if _, err := s.Jobs().Sent(ctx, c, "5:10,11"); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"m1", "m2"} {
			if id, ok, err := s.Jobs().SentID(ctx, "tg", "5", "alice@x.test", ref); err != nil || !ok || id != "5:10,11" {
				t.Errorf("SentID(%s) = %q, %v, %v; want 5:10,11", ref, id, ok, err)
			}
		}
	})
}
