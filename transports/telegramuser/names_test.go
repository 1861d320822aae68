package telegramuser

import (
	"context"
	"testing"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

// A contact's name and picture come from the asking user's own account
// only: another account's names (its user's own, for its contacts, or
// private groups' titles) are never shown to anyone else.
func TestNamesAreTheAskersOwn(t *testing.T) {
	tr := &Transport{accounts: map[string]*account{}}
	bob := &account{t: tr, user: "bob@example.test"}
	bob.self.Store(1)
	bob.peers.addUser(&tg.User{ID: 777, FirstName: "Secret", LastName: "Contact", Photo: &tg.UserProfilePhoto{PhotoID: 1}})
	bob.peers.addChat(&tg.Chat{ID: 4242, Title: "Bob's private group"})
	bob.peers.addUser(&tg.User{ID: 888, FirstName: "Dana", Photo: &tg.UserProfilePhoto{PhotoID: 2}})
	tr.accounts["bob@example.test"] = bob
	alice := &account{t: tr, user: "alice@example.test"}
	alice.self.Store(2)
	alice.peers.addUser(&tg.User{ID: 777, FirstName: "Carol"})
	tr.accounts["alice@example.test"] = alice

	ctx := context.Background()
	for _, tc := range []struct {
		user   string
		remote transports.Addr
		want   string
	}{
		{"bob@example.test", "777", "Secret Contact"},
		{"bob@example.test", "-4242", "Bob's private group"},
		{"alice@example.test", "777", "Carol"},
		{"alice@example.test", "-4242", ""},
		{"mallory@example.test", "777", ""},
		{"mallory@example.test", "-4242", ""},
	} {
		got, err := tr.ContactName(ctx, tc.user, tc.remote)
		if err != nil || got != tc.want {
			t.Errorf("ContactName(%s, %s) = %q, %v; want %q", tc.user, tc.remote, got, err, tc.want)
		}
	}
	// Only bob's account knows 888, and has its picture; 777 alice's
	// knows with none. Neither alice nor mallory (who has no account) gets
	// a request made through bob's (which has no connection here, so one
	// would fail).
	for _, tc := range []struct {
		user   string
		remote transports.Addr
	}{{"mallory@example.test", "888"}, {"alice@example.test", "888"}, {"mallory@example.test", "777"}, {"alice@example.test", "777"}} {
		data, _, err := tr.Avatar(ctx, tc.user, tc.remote)
		if err != nil || data != nil {
			t.Errorf("Avatar(%s, %s) = %d bytes, %v; want none", tc.user, tc.remote, len(data), err)
		}
	}
}
