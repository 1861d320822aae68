package mapping

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A user has one outstanding link code: asking again replaces it.
func TestLinkCodeReplaced(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		first, err := s.Links().NewLinkCode(ctx, "tg", "alice@example.test", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.Links().NewLinkCode(ctx, "tg", "alice@example.test", time.Minute)
		if err != nil || second == first {
			t.Fatalf("second code %q (first %q), %v", second, first, err)
		}
		bob, _ := s.Links().NewLinkCode(ctx, "tg", "bob@example.test", time.Minute)
		other, _ := s.Links().NewLinkCode(ctx, "sms", "alice@example.test", time.Minute)
		if _, err := s.Links().RedeemLinkCode(ctx, "tg", first, "1", "One", stanzaFor("s")); !errors.Is(err, ErrBadCode) {
			t.Errorf("the replaced code: %v, want ErrBadCode", err)
		}
		for _, c := range []struct{ transport, code, remote, user string }{
			{"tg", second, "2", "alice@example.test"},
			{"tg", bob, "3", "bob@example.test"},      // another user's code stays
			{"sms", other, "4", "alice@example.test"}, // so does one of another transport
		} {
			if u, err := s.Links().RedeemLinkCode(ctx, c.transport, c.code, c.remote, "", stanzaFor("s")); u != c.user || err != nil {
				t.Errorf("%s %s: %q, %v", c.transport, c.code, u, err)
			}
		}
	})
}

// In a group, any member with a code may link it when it is not linked;
// then only the member who linked it, or an administrator, may link it
// again or unlink it.
func TestGroupLinkAskers(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		code := func(user string) string {
			c, err := s.Links().NewLinkCode(ctx, "tg", user, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		carol, mallory := Asker{Member: "7"}, Asker{Member: "9"}
		admin := Asker{Member: "8", Admin: true}
		nobody := Asker{}

		steps := []struct {
			name     string
			unlink   bool
			codeOf   string // the user whose new code is redeemed
			who      Asker
			wantUser string
			wantErr  error
		}{
			0: {name: "a member links", codeOf: "alice@x.test", who: carol, wantUser: "alice@x.test"},
			1: {name: "another member re-links", codeOf: "alice@x.test", who: mallory, wantErr: ErrNotLinker},
			2: {name: "another member unlinks", unlink: true, who: mallory, wantErr: ErrNotLinker},
			3: {name: "an asker without an id unlinks", unlink: true, who: nobody, wantErr: ErrNotLinker},
			4: {name: "the linker re-links", codeOf: "alice@x.test", who: carol, wantUser: "alice@x.test"},
			5: {name: "an admin re-links to another user", codeOf: "mallory@x.test", who: admin, wantErr: ErrLinkedToOther},
			6: {name: "an admin unlinks", unlink: true, who: admin, wantUser: "alice@x.test"},
			7: {name: "then anyone links", codeOf: "mallory@x.test", who: mallory, wantUser: "mallory@x.test"},
			8: {name: "the first linker no longer may", unlink: true, who: carol, wantErr: ErrNotLinker},
			9: {name: "the new linker unlinks", unlink: true, who: mallory, wantUser: "mallory@x.test"},
		}
		for i, st := range steps {
			var user string
			var err error
			if st.unlink {
				user, err = s.Links().UnlinkGroup(ctx, "tg", "-100", st.who, stanzaFor("u"))
			} else {
				user, err = s.Links().RedeemGroupLinkCode(ctx, "tg", code(st.codeOf), "-100", "Ops", st.who, stanzaFor("s"))
			}
			if user != st.wantUser || !errors.Is(err, st.wantErr) {
				t.Errorf("%d %s: got (%q, %v), want (%q, %v)", i, st.name, user, err, st.wantUser, st.wantErr)
			}
			if i == 0 {
				if l, _, _ := s.Links().LinkOf(ctx, "tg", "-100"); l.LinkedBy != "7" {
					t.Errorf("linked by %q, want 7", l.LinkedBy)
				}
			}
		}
		// A refused code is not used up: its user may still redeem it.
		c := code("alice@x.test")
		s.Links().RedeemGroupLinkCode(ctx, "tg", c, "-100", "Ops", carol, stanzaFor("s"))
		d := code("bob@x.test")
		if _, err := s.Links().RedeemGroupLinkCode(ctx, "tg", d, "-100", "Ops", mallory, stanzaFor("s")); !errors.Is(err, ErrNotLinker) {
			t.Fatalf("refused: %v", err)
		}
		if u, err := s.Links().RedeemGroupLinkCode(ctx, "tg", d, "-200", "Dev", mallory, stanzaFor("s")); u != "bob@x.test" || err != nil {
			t.Errorf("the refused code later: %q, %v", u, err)
		}
		// A group linked before members were recorded: only an administrator.
		if err := s.Links().ImportLinks(ctx, "tg", []Link{{Remote: "-300", User: "alice@x.test"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Links().UnlinkGroup(ctx, "tg", "-300", nobody, stanzaFor("u")); !errors.Is(err, ErrNotLinker) {
			t.Errorf("old link, no id: %v", err)
		}
		if u, err := s.Links().UnlinkGroup(ctx, "tg", "-300", admin, stanzaFor("u")); u != "alice@x.test" || err != nil {
			t.Errorf("old link, admin: %q, %v", u, err)
		}
	})
}
