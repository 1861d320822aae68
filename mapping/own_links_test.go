package mapping

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// WithOwners refuses the code of a user it rejects as an unknown code, and
// leaves the code and the chat as they were.
func TestRedeemWithOwners(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		onlyAlice := s.Links().WithOwners(func(user string) bool { return user == "alice@example.test" })
		bob, _ := s.Links().NewLinkCode(ctx, "tg", "bob@example.test", time.Minute)
		alice, _ := s.Links().NewLinkCode(ctx, "tg", "alice@example.test", time.Minute)
		if u, err := onlyAlice.RedeemLinkCode(ctx, "tg", bob, "200", "Chat", stanzaFor("s")); u != "" || !errors.Is(err, ErrBadCode) {
			t.Errorf("bob's code: (%q, %v), want ErrBadCode", u, err)
		}
		if _, err := onlyAlice.RedeemGroupLinkCode(ctx, "tg", bob, "-100", "Group", Asker{Member: "7"}, stanzaFor("s")); !errors.Is(err, ErrBadCode) {
			t.Errorf("bob's code for a group: %v, want ErrBadCode", err)
		}
		if _, ok, _ := s.Links().LinkOf(ctx, "tg", "200"); ok {
			t.Error("linked with a refused code")
		}
		if u, err := onlyAlice.RedeemLinkCode(ctx, "tg", alice, "300", "Chat", stanzaFor("s")); u != "alice@example.test" || err != nil {
			t.Errorf("alice's code: (%q, %v)", u, err)
		}
		if u, err := s.Links().RedeemLinkCode(ctx, "tg", bob, "200", "Chat", stanzaFor("s")); u != "bob@example.test" || err != nil {
			t.Errorf("bob's code, without owners: (%q, %v)", u, err)
		}
	})
}

// UnlinkOwn removes a link only while it is the user's: another user's,
// a static one of another user's, and none are one answer, ErrNotLinked.
func TestUnlinkOwn(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.Links().SyncStaticLinks(ctx, "tg", map[string]string{"100": "carol@example.test", "101": "alice@example.test"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Links().AddLink(ctx, "tg", "200", "bob@example.test"); err != nil {
			t.Fatal(err)
		}
		if err := s.Links().AddLink(ctx, "tg", "300", "alice@example.test"); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name, remote, user string
			want               error
		}{
			{"another user's", "200", "alice@example.test", ErrNotLinked},
			{"another user's, static", "100", "alice@example.test", ErrNotLinked},
			{"nobody's", "999", "alice@example.test", ErrNotLinked},
			{"the user's, static", "101", "alice@example.test", ErrStaticLink},
			{"the user's", "300", "alice@example.test", nil},
			{"the user's, once removed", "300", "alice@example.test", ErrNotLinked},
		}
		for _, st := range steps {
			if err := s.Links().UnlinkOwn(ctx, "tg", st.remote, st.user, stanzaFor("unlinked")); !errors.Is(err, st.want) {
				t.Errorf("%s: %v, want %v", st.name, err, st.want)
			}
		}
		if l, ok, _ := s.Links().LinkOf(ctx, "tg", "200"); !ok || l.User != "bob@example.test" {
			t.Errorf("bob's link: %+v, %v", l, ok)
		}
		if got, want := queuedStanzas(t, s, "tg"), []string{"<unlinked who='alice@example.test'/>"}; !reflect.DeepEqual(got, want) {
			t.Errorf("queued %q, want %q", got, want)
		}
	})
}
